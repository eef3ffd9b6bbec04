import { stringify } from 'yaml';

/** The names the sandbox uses in the kubeconfig it hands out. */
const SANDBOX_CONTEXT = 'aegis-sandbox';

/**
 * A kubeconfig for the simulator: cluster, context and user all named `aegis-sandbox`, the given default namespace,
 * the bearer token when there is one, and over HTTPS the CA that signed the simulator's certificate, so clients
 * verify the server as they would a real cluster. kubectl never sends a bearer token over plain HTTP, so a
 * token-protected simulator without TLS is for the product's own client only.
 */
export function kubeconfigYaml(server: string, namespace: string, token?: string, ca?: string): string {
  const cluster = ca
    ? { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') }
    : // client-node refuses an http:// server unless TLS verification is declared off; kubectl ignores the flag there.
      { server, 'insecure-skip-tls-verify': true };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: SANDBOX_CONTEXT, cluster }],
    users: [{ name: SANDBOX_CONTEXT, user: token === undefined ? {} : { token } }],
    contexts: [{ name: SANDBOX_CONTEXT, context: { cluster: SANDBOX_CONTEXT, user: SANDBOX_CONTEXT, namespace } }],
    'current-context': SANDBOX_CONTEXT,
    preferences: {},
  });
}
