import type { Context } from '../../core/context.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import { formatBytes, formatCores, parseQuantity } from '../../kube/quantity.js';
import { SkipCheck, defineCheck, type EvaluationEnv } from '../check.js';
import { KUBERNETES_FINDINGS as F } from './findings.js';
import { DIAGNOSE_MEMORY } from './pod-health.js';
import { isFinished, workloadSnapshot } from './snapshot.js';
import { compareNames } from '../../kube/names.js';

/** One container's usage next to its requests and limits (CPU in cores, memory in bytes). */
export interface ContainerUsage {
  pod: string;
  container: string;
  cpu: number | null;
  memory: number | null;
  cpuRequest: number | null;
  cpuLimit: number | null;
  memoryRequest: number | null;
  memoryLimit: number | null;
}

/** Evidence of the resource-usage check (`kubectl top pods` joined with the pods' resources). */
export interface ResourceUsageEvidence {
  containers: ContainerUsage[];
}

/**
 * metrics.k8s.io usage of every container in the namespace, keyed `pod/container`; skips the check, with the
 * reason, when the cluster serves no metrics API.
 */
export async function containerUsage(ctx: Context): Promise<Map<string, { cpu?: string; memory?: string }>> {
  const metrics = await (await ctx.kube()).listPodMetrics(ctx.signal);
  if (!metrics) throw new SkipCheck('the cluster serves no metrics.k8s.io API (metrics-server not installed)');
  return new Map(metrics.flatMap((m) => m.containers.map((c) => [`${m.metadata.name}/${c.name}`, c.usage] as const)));
}

/**
 * Resource use (`kubectl top pods`): metrics.k8s.io usage of each container of the Deployment's own
 * running pods against its limits. Memory close to the limit is where OOMKills come from; CPU at the limit means throttling
 * and slow requests. Skipped, with the reason, when the cluster serves no metrics API.
 */
export const resourceUsageCheck = defineCheck<ResourceUsageEvidence>({
  id: 'resource-usage',
  title: 'CPU and memory against limits',
  target: 'cluster',
  async collect(ctx) {
    const [usage, snapshot] = await Promise.all([containerUsage(ctx), workloadSnapshot(ctx)]);
    const pods = snapshot.pods.filter((p) => !isFinished(p));
    const containers: ContainerUsage[] = [];
    for (const pod of pods) {
      const podName = pod.metadata?.name ?? '';
      for (const container of pod.spec?.containers ?? []) {
        const used = usage.get(`${podName}/${container.name}`);
        const resources = container.resources ?? {};
        containers.push({
          pod: podName,
          container: container.name,
          cpu: parseQuantity(used?.cpu) ?? null,
          memory: parseQuantity(used?.memory) ?? null,
          cpuRequest: parseQuantity(resources.requests?.cpu) ?? null,
          cpuLimit: parseQuantity(resources.limits?.cpu) ?? null,
          memoryRequest: parseQuantity(resources.requests?.memory) ?? null,
          memoryLimit: parseQuantity(resources.limits?.memory) ?? null,
        });
      }
    }
    return { containers: containers.sort((a, b) => compareNames(a.pod, b.pod)) };
  },
  evaluate: evaluateResourceUsage,
});

export function evaluateResourceUsage(evidence: ResourceUsageEvidence, env: EvaluationEnv): Finding[] {
  const check = 'resource-usage';
  const { memoryOfLimit, cpuOfLimit } = env.config.thresholds;
  const findings: Finding[] = [];
  for (const c of evidence.containers) {
    const resource = `pod/${c.pod}`;
    const evidenceOf = { container: c.container, cpu: c.cpu, memory: c.memory, cpuLimit: c.cpuLimit, memoryLimit: c.memoryLimit };
    if (c.memoryLimit === null) {
      findings.push(makeFinding(F.noMemoryLimit, { check, resource, params: { pod: c.pod, container: c.container }, evidence: evidenceOf }));
    } else if (c.memory !== null && c.memory >= memoryOfLimit * c.memoryLimit) {
      findings.push(
        makeFinding(F.memoryNearLimit, {
          check,
          resource,
          params: { pod: c.pod, container: c.container, usage: formatBytes(c.memory), limit: formatBytes(c.memoryLimit), percent: percent(c.memory, c.memoryLimit) },
          evidence: evidenceOf,
          next: [DIAGNOSE_MEMORY],
        }),
      );
    }
    if (c.cpuLimit !== null && c.cpu !== null && c.cpu >= cpuOfLimit * c.cpuLimit) {
      findings.push(
        makeFinding(F.cpuNearLimit, {
          check,
          resource,
          params: { pod: c.pod, container: c.container, usage: formatCores(c.cpu), limit: formatCores(c.cpuLimit), percent: percent(c.cpu, c.cpuLimit) },
          evidence: evidenceOf,
          next: ['aegis-ir fix scale --by 1 --dry-run'],
        }),
      );
    }
  }
  return findings;
}

function percent(part: number, whole: number): number {
  return Math.round((part / whole) * 100);
}
