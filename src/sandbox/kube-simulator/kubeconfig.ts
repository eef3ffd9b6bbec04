import { stringify } from 'yaml';

/** The names the sandbox uses in the kubeconfig it hands out. */
export const SANDBOX_CONTEXT = 'aegis-sandbox';

/**
 * A kubeconfig for the simulator: cluster, context and user all named `aegis-sandbox`, the given default namespace,
 * and the bearer token when the scenario requires one. Plain HTTP on loopback needs no TLS material, and both kubectl
 * and @kubernetes/client-node accept an `http://` server.
 */
export function kubeconfigYaml(server: string, namespace: string, token?: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: SANDBOX_CONTEXT, cluster: { server } }],
    users: [{ name: SANDBOX_CONTEXT, user: token === undefined ? {} : { token } }],
    contexts: [{ name: SANDBOX_CONTEXT, context: { cluster: SANDBOX_CONTEXT, user: SANDBOX_CONTEXT, namespace } }],
    'current-context': SANDBOX_CONTEXT,
    preferences: {},
  });
}
