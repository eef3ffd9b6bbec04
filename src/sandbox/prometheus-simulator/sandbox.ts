import { parseQuantity } from '../../kube/quantity.js';
import type { KubeObject, KubeSimulator, Scenario } from '../kube-simulator/index.js';
import type { Clock } from '../kube-simulator/time.js';
import { DEPLOYMENT, POD, POD_METRICS } from '../kube-simulator/resources.js';
import { startPrometheusSimulator, type ContainerMemorySeries, type PrometheusSimulator } from './server.js';

/**
 * Starts the Prometheus simulator for a scenario that has a `prometheus:` section (null otherwise),
 * reading the app deployment's image and replicas from the Kubernetes simulator so that a `fix`
 * that removes an incident's cause ends it in the metrics too.
 */
export async function startScenarioPrometheus(
  scenario: Scenario,
  kube: KubeSimulator,
  clock: Clock,
  health?: (component: string) => number | undefined,
): Promise<PrometheusSimulator | null> {
  const section = scenario.document.prometheus;
  if (!section) return null;
  const namespace = scenario.document.kubernetes.namespace;
  const start = clock();
  return startPrometheusSimulator({
    section,
    start,
    memory: () => memorySeries(kube, namespace, start.getTime()),
    ...(health ? { health } : {}),
    clock,
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

const HOUR_MS = 3_600_000;

interface StatusOf {
  name: string;
  state?: { running?: { startedAt?: string } };
  lastState?: { terminated?: { reason?: string; startedAt?: string; finishedAt?: string } };
}

/**
 * The working set of every container of the namespace over time: the current instance grows at the
 * scenario's rate through the usage metrics.k8s.io reports at `loadedAt` (or, started since, from
 * that usage), never below its fresh size; an instance OOM-killed before it had grown to its limit.
 */
function memorySeries(kube: KubeSimulator, namespace: string, loadedAt: number): ContainerMemorySeries[] {
  return kube.store.list(POD, namespace).flatMap((pod: KubeObject) => {
    const name = pod.metadata.name;
    const runtime = kube.podRuntime(namespace, name);
    const metrics = kube.store.get(POD_METRICS, namespace, name) as { containers?: Array<{ name: string; usage?: { memory?: string } }> } | undefined;
    const spec = (pod['spec'] as { containers?: Array<{ name: string; resources?: { limits?: { memory?: string } } }> }).containers ?? [];
    const statuses = ((pod['status'] as { containerStatuses?: StatusOf[] }).containerStatuses ?? []);
    return statuses.flatMap((status): ContainerMemorySeries[] => {
      const usage = parseQuantity(metrics?.containers?.find((c) => c.name === status.name)?.usage?.memory);
      const startedAt = Date.parse(status.state?.running?.startedAt ?? '');
      if (usage === undefined || Number.isNaN(startedAt)) return [];
      const { perHour = 0, fresh = usage } = runtime.memory.get(status.name) ?? {};
      const limit = parseQuantity(spec.find((c) => c.name === status.name)?.resources?.limits?.memory);
      const anchor = Math.max(startedAt, loadedAt);
      const previous = status.lastState?.terminated;
      const previousStart = Date.parse(previous?.startedAt ?? '');
      const previousEnd = Date.parse(previous?.finishedAt ?? '');
      const peak = previous?.reason === 'OOMKilled' && limit !== undefined ? limit : fresh + (perHour * (previousEnd - previousStart)) / HOUR_MS;
      return [{
        namespace,
        pod: name,
        container: status.name,
        at: (time) => {
          if (time >= startedAt) return Math.max(fresh, usage + (perHour * (time - anchor)) / HOUR_MS);
          if (time >= previousStart && time <= previousEnd) return Math.max(fresh, peak - (perHour * (previousEnd - time)) / HOUR_MS);
          return undefined;
        },
      }];
    });
  });
}
