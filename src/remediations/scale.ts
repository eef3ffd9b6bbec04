import type { V1Deployment, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { Option } from 'commander';
import { podHealthCheck } from '../checks/kubernetes/pod-health.js';
import { resourceUsageCheck } from '../checks/kubernetes/resource-usage.js';
import { UsageError } from '../core/errors.js';
import type { KubePort } from '../kube/port.js';
import { positiveWhole } from './arguments.js';
import { defineRemediation } from './remediation.js';
import { WorkloadPatchSession, objectIdentity, rolloutTimeoutOf, rolloutTimeoutOption, type WorkloadPlan } from './workload-patch.js';

const VERIFY_WITH = [podHealthCheck, resourceUsageCheck];

type Args = { replicas: number | null; by: number | null; rolloutTimeoutMs: number };

/**
 * `fix scale --replicas N | --by N`: the runbook's "If CPU: scale horizontally". When a
 * HorizontalPodAutoscaler targets the deployment it owns the replica count, so its `minReplicas`
 * is raised (and `maxReplicas` with it when needed) and the wait is for the HPA to scale the
 * deployment; otherwise the deployment's replicas are patched. The resulting replica count is
 * capped (`--max` to go beyond). Verified by pod health and CPU use afterwards.
 */
export const scaleRemediation = defineRemediation<Args>({
  id: 'scale',
  summary: "Scale the deployment out (raising its HPA's minReplicas when one owns it)",
  description:
    'Sets the replica count to --replicas N, or to the current count plus --by N. When an HPA targets the\n' +
    'deployment, its minReplicas is raised instead (scaling the deployment directly would be undone by the HPA).\n' +
    'Changes are computed with a server-side dry run and shown as a diff; the run waits until the replicas are\n' +
    'available. Lower the minimum again once the hot paths are fixed.',
  risk: 'low',
  anchor: 'issue-high-api-error-rate',
  cap: { unit: 'replicas', default: 20 },
  options: () => [
    new Option('--replicas <n>', 'the replica count to run').conflicts('by'),
    new Option('--by <n>', 'replicas to add to the current count'),
    rolloutTimeoutOption(),
  ],
  examples: ['aegis-ir fix scale --by 1 --dry-run', 'aegis-ir fix scale --replicas 6 --yes'],
  parseArgs(options) {
    if (options.replicas === undefined && options.by === undefined) {
      throw new UsageError('say how far to scale: --replicas N or --by N', 'aegis-ir fix scale --by 1 --dry-run');
    }
    return {
      replicas: options.replicas === undefined ? null : positiveWhole('--replicas', options.replicas),
      by: options.by === undefined ? null : positiveWhole('--by', options.by),
      rolloutTimeoutMs: rolloutTimeoutOf(options),
    };
  },
  checks: async () => VERIFY_WITH,
  async open(ctx, args) {
    const kube = await ctx.kube();
    const remediation = { plan: (k: KubePort, d: V1Deployment, signal: AbortSignal) => planScale(k, d, args, signal), verifyWith: VERIFY_WITH };
    return new WorkloadPatchSession(ctx, kube, remediation, args.rolloutTimeoutMs);
  },
});

export async function planScale(kube: KubePort, deployment: V1Deployment, args: Args, signal: AbortSignal): Promise<WorkloadPlan> {
  const name = deployment.metadata?.name ?? '';
  const current = deployment.spec?.replicas ?? 1;
  const target = args.replicas ?? current + (args.by ?? 0);
  const hpa = (await kube.listHorizontalPodAutoscalers(signal)).find(
    (h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef.name === name,
  );
  const goal = { kind: 'replicas', replicas: target } as const;
  if (hpa) return planHpa(hpa, name, current, target, deployment);
  const identity = { deployment: objectIdentity(deployment, deployment.spec?.replicas), target };
  if (target === current) {
    return { summary: `deployment/${name} already runs ${current} replicas: nothing to do`, changes: [], goal, identity, size: target, notes: [] };
  }
  return {
    summary: `scale deployment/${name} from ${current} to ${target} replicas`,
    changes: [{ kind: 'deployment', current: deployment, patch: { type: 'strategic-merge', body: { spec: { replicas: target } } }, description: `set deployment/${name} replicas ${current} → ${target}` }],
    goal,
    identity,
    size: target,
    notes: target < current ? [`this scales in: ${current - target} pod(s) will be terminated`] : [],
  };
}

function planHpa(hpa: V2HorizontalPodAutoscaler, deployment: string, current: number, target: number, object: V1Deployment): WorkloadPlan {
  const hpaName = hpa.metadata?.name ?? '';
  const min = hpa.spec?.minReplicas ?? 1;
  const max = hpa.spec?.maxReplicas ?? target;
  const goal = { kind: 'replicas', replicas: target } as const;
  // The HPA scales the deployment itself, so its replicas may move; the target (from them with --by) says when that matters.
  const identity = { deployment: objectIdentity(object, null), hpa: objectIdentity(hpa, hpa.spec), target };
  if (target <= min) {
    return { summary: `horizontalpodautoscaler/${hpaName} already keeps at least ${min} replicas of deployment/${deployment}: nothing to do`, changes: [], goal, identity, size: target, notes: [] };
  }
  const spec = { minReplicas: target, ...(target > max ? { maxReplicas: target } : {}) };
  return {
    summary: `raise horizontalpodautoscaler/${hpaName} minReplicas from ${min} to ${target}${target > max ? ` (and maxReplicas from ${max})` : ''}, scaling deployment/${deployment} from ${current} to ${target}`,
    changes: [{ kind: 'horizontalpodautoscaler', current: hpa, patch: { type: 'strategic-merge', body: { spec } }, description: `set horizontalpodautoscaler/${hpaName} minReplicas ${min} → ${target}` }],
    goal,
    identity,
    size: target,
    notes: [
      `horizontalpodautoscaler/${hpaName} owns the replica count of deployment/${deployment}, so its minimum is raised; the HPA scales the deployment`,
      `lower minReplicas back to ${min} once the hot paths are optimised`,
    ],
  };
}
