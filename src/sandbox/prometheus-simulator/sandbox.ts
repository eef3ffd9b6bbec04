import type { KubeSimulator, Scenario } from '../kube-simulator/index.js';
import { DEPLOYMENT } from '../kube-simulator/resources.js';
import { startPrometheusSimulator, type PrometheusSimulator } from './server.js';

/**
 * Starts the Prometheus simulator for a scenario that has a `prometheus:` section (null otherwise),
 * reading the app deployment's image and replicas from the Kubernetes simulator so that a `fix`
 * that removes an incident's cause ends it in the metrics too.
 */
export async function startScenarioPrometheus(scenario: Scenario, kube: KubeSimulator): Promise<PrometheusSimulator | null> {
  const section = scenario.document.prometheus;
  if (!section) return null;
  const namespace = scenario.document.kubernetes.namespace;
  return startPrometheusSimulator({
    section,
    start: new Date(),
    clock: () => new Date(),
    onWorkloadChange: (listener) => kube.store.subscribe(listener),
    workload: () => {
      const deployment = kube.store.get(DEPLOYMENT, namespace, section.deployment) as
        | { spec?: { replicas?: number; template?: { spec?: { containers?: Array<{ image?: string }> } } } }
        | undefined;
      return {
        image: deployment?.spec?.template?.spec?.containers?.[0]?.image ?? null,
        replicas: deployment?.spec?.replicas ?? 0,
      };
    },
  });
}
