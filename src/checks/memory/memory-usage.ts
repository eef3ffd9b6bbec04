import type { V1Pod } from '@kubernetes/client-node';
import { makeFinding, type Finding } from '../../core/findings.js';
import { formatBytes, parseQuantity } from '../../kube/quantity.js';
import { defineCheck, type EvaluationEnv } from '../check.js';
import { KUBERNETES_FINDINGS as K } from '../kubernetes/findings.js';
import { containerUsage } from '../kubernetes/resource-usage.js';
import { appContainerName, isFinished, snapshotWithoutDeployment, workloadSnapshot } from '../kubernetes/snapshot.js';

/** Whether a container is the app's or runs beside it. */
export type ContainerRole = 'app' | 'sidecar';

/** One container's working set next to its memory request and limit (bytes). */
export interface ContainerMemory {
  pod: string;
  container: string;
  role: ContainerRole;
  /** metrics.k8s.io working set; null when the metrics API has none for it. */
  usage: number | null;
  request: number | null;
  limit: number | null;
}

/** Evidence of the memory-usage check. */
export interface MemoryUsageEvidence {
  containers: ContainerMemory[];
}

/** The Deployment's own pods that run or will: not finished, not terminating. */
export function livePods(pods: readonly V1Pod[]): V1Pod[] {
  return pods.filter((p) => !isFinished(p) && !p.metadata?.deletionTimestamp);
}

/**
 * Memory against requests and limits (`kubectl top pods --containers`): every container of the
 * app's pods from metrics.k8s.io, the app container and its sidecars by name. Memory at the limit
 * is where OOMKills come from; a container without a limit can take its node's memory.
 */
export const memoryUsageCheck = defineCheck<MemoryUsageEvidence>({
  id: 'memory-usage',
  title: 'Memory against requests and limits',
  target: 'cluster',
  async collect(ctx) {
    const [usage, snapshot] = await Promise.all([containerUsage(ctx), workloadSnapshot(ctx)]);
    // No pods of a Deployment that is not there is no evidence of healthy memory.
    if (!snapshot.deployment) throw snapshotWithoutDeployment(snapshot);
    const containers = livePods(snapshot.pods)
      .flatMap((pod) => {
        const name = pod.metadata?.name ?? '';
        const app = appContainerName(pod, ctx.config.app);
        return (pod.spec?.containers ?? []).map((c): ContainerMemory => ({
          pod: name,
          container: c.name,
          role: c.name === app ? 'app' : 'sidecar',
          usage: parseQuantity(usage.get(`${name}/${c.name}`)?.memory) ?? null,
          request: parseQuantity(c.resources?.requests?.memory) ?? null,
          limit: parseQuantity(c.resources?.limits?.memory) ?? null,
        }));
      });
    return { containers: containers.sort((a, b) => a.pod.localeCompare(b.pod) || (a.role === b.role ? a.container.localeCompare(b.container) : a.role === 'app' ? -1 : 1)) };
  },
  evaluate: evaluateMemoryUsage,
});

/** Pure evaluation of {@link MemoryUsageEvidence}: at or above `thresholds.memoryOfLimit` of the limit is SEV3. */
export function evaluateMemoryUsage(evidence: MemoryUsageEvidence, env: EvaluationEnv): Finding[] {
  const check = 'memory-usage';
  const findings: Finding[] = [];
  for (const c of evidence.containers) {
    const shown = { container: c.container, role: c.role, usage: c.usage, request: c.request, limit: c.limit };
    if (c.limit === null) {
      findings.push(
        makeFinding(K.noMemoryLimit, { check, resource: `pod/${c.pod}`, params: { pod: c.pod, container: c.container }, evidence: shown, next: ['aegis-ir fix enforce-limits --dry-run'] }),
      );
    } else if (c.usage !== null && c.usage >= env.config.thresholds.memoryOfLimit * c.limit) {
      findings.push(
        makeFinding(K.memoryNearLimit, {
          check,
          resource: `pod/${c.pod}`,
          params: { pod: c.pod, container: c.container, usage: formatBytes(c.usage), limit: formatBytes(c.limit), percent: Math.round((c.usage / c.limit) * 100) },
          evidence: { ...shown, ofRequest: c.request ? Math.round((c.usage / c.request) * 100) / 100 : null },
          next: ['aegis-ir fix restart --dry-run'],
        }),
      );
    }
  }
  return findings;
}
