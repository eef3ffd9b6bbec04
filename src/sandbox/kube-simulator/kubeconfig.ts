import { stringify } from 'yaml';

/** The names the sandbox uses in the kubeconfig it hands out. */
export const SANDBOX_CONTEXT = 'aegis-sandbox';

/**
 * A kubeconfig for the simulator: cluster, context and user all named `aegis-sandbox`, the given default namespace,
 * and the bearer token when the scenario requires one. Plain HTTP on loopback needs no TLS material. Note that kubectl
 * never sends a bearer token over plain HTTP, so a token-protected scenario is for the product's own client.
 */
export function kubeconfigYaml(server: string, namespace: string, token?: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node refuses an http:// server unless TLS verification is declared off; kubectl ignores the flag there.
    clusters: [{ name: SANDBOX_CONTEXT, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: SANDBOX_CONTEXT, user: token === undefined ? {} : { token } }],
    contexts: [{ name: SANDBOX_CONTEXT, context: { cluster: SANDBOX_CONTEXT, user: SANDBOX_CONTEXT, namespace } }],
    'current-context': SANDBOX_CONTEXT,
    preferences: {},
  });
}
