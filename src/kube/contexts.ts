import { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from './kubeconfig.js';
import type { KubeTarget } from './port.js';

/** The names of the kubeconfig's contexts, in its order: what `triage --all-contexts` triages. */
export function kubeContextNames(kubeconfig: KubeTarget['kubeconfig'], env: Record<string, string | undefined>): string[] {
  const kc = new KubeConfig();
  loadKubeConfig(kc, { kubeconfig, namespace: '' }, env);
  return kc.getContexts().map((c) => c.name);
}
