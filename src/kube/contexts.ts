import { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from './kubeconfig.js';
import type { KubeTarget } from './port.js';

/** The names of the kubeconfig's contexts, in its order: what `triage --all-contexts` triages. */
export async function kubeContextNames(kubeconfig: KubeTarget['kubeconfig'], env: Record<string, string | undefined>): Promise<string[]> {
  const kc = new KubeConfig();
  await loadKubeConfig(kc, { kubeconfig, namespace: '' }, env);
  return kc.getContexts().map((c) => c.name);
}
