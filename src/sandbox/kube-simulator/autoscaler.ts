import { DEPLOYMENT, HPA } from './resources.js';
import type { ObjectStore, StoreEvent } from './store.js';
import { specReplicas } from './workloads.js';

type Json = Record<string, unknown>;

/**
 * The part of the HorizontalPodAutoscaler controller the sandbox needs: when an HPA's bounds change
 * (`fix scale` raising minReplicas), the deployment it targets is brought within
 * [minReplicas, maxReplicas] at once, as the real controller does on its next sync. Metric-driven
 * scaling is not simulated: scenarios state their CPU use.
 *
 * Returns the function that stops it.
 */
export function startAutoscaler(store: ObjectStore): () => void {
  return store.subscribe((event) => react(store, event));
}

function react(store: ObjectStore, event: StoreEvent): void {
  if (event.resource !== HPA || event.type === 'DELETED') return;
  const spec = (event.object['spec'] ?? {}) as Json;
  const target = (spec['scaleTargetRef'] ?? {}) as Json;
  if (target['kind'] !== 'Deployment') return;
  const namespace = event.object.metadata.namespace;
  const deployment = store.get(DEPLOYMENT, namespace, String(target['name']));
  if (deployment === undefined) return;
  const replicas = specReplicas(deployment);
  const min = Number(spec['minReplicas'] ?? 1);
  const max = Number(spec['maxReplicas'] ?? replicas);
  const bounded = Math.min(Math.max(replicas, min), max);
  if (bounded === replicas) return;
  store.update(DEPLOYMENT, { ...deployment, spec: { ...(deployment['spec'] as Json), replicas: bounded } });
}
