import { PDB, POD } from './resources.js';
import { ApiError, badRequest } from './status.js';
import type { ObjectStore } from './store.js';
import { budgetSelects, budgetStatus, isPodReady } from './workloads.js';

/**
 * `POST …/pods/{name}/eviction` (policy/v1 Eviction), as the apiserver answers it: the pod is deleted
 * (its ReplicaSet replaces it) unless its PodDisruptionBudget would be violated, which is a 429
 * naming the budget. A ready pod needs a disruption allowed; a pod that is not ready may go while
 * the budget is healthy (the default `IfHealthyBudget` policy). More than one budget is a 500.
 */
export function evictPod(store: ObjectStore, namespace: string, name: string, body: unknown, dryRun: boolean): Record<string, unknown> {
  const eviction = body as { kind?: string; metadata?: { name?: string } } | null;
  if (eviction?.kind !== 'Eviction') throw badRequest(`expected an Eviction object, got kind ${String(eviction?.kind)}`);
  if (eviction.metadata?.name !== name) {
    throw badRequest(`name in URL does not match name in Eviction object`);
  }
  const pod = store.require(POD, namespace, name);
  const pods = store.list(POD, namespace);
  const budgets = store.list(PDB, namespace).filter((b) => budgetSelects(b, pod));
  if (budgets.length > 1) {
    throw new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  }
  const [budget] = budgets;
  if (budget !== undefined) {
    const status = budgetStatus(budget, pods) as { currentHealthy: number; desiredHealthy: number; disruptionsAllowed: number };
    const allowed = isPodReady(pod) ? status.disruptionsAllowed > 0 : status.currentHealthy >= status.desiredHealthy;
    if (!allowed) {
      throw new ApiError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
        causes: [{ type: 'DisruptionBudget', message: `The disruption budget ${budget.metadata.name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently` }],
      });
    }
  }
  if (!dryRun) store.delete(POD, namespace, name);
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
}
