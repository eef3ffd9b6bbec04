import type { V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import { Option } from 'commander';
import { podHealthCheck } from '../checks/kubernetes/pod-health.js';
import { revisionOf } from '../checks/kubernetes/recent-rollouts.js';
import { ownedReplicaSets } from '../checks/kubernetes/snapshot.js';
import { UsageError } from '../core/errors.js';
import type { JsonPatchOperation, KubePort } from '../kube/port.js';
import { positiveWhole } from './arguments.js';
import { defineRemediation } from './remediation.js';
import { pointerKey } from './replaced.js';
import { WorkloadPatchSession, objectIdentity, rolloutTimeoutOf, rolloutTimeoutOption, type WorkloadPlan } from './workload-patch.js';

interface Args {
  toRevision: number | null;
  rolloutTimeoutMs: number;
}

/** Where the deployment records the revision a rollback left, for the next operator and the post-mortem. */
export const ROLLED_BACK_FROM = 'aegis-ir.dev/rolled-back-from';
const REVISION = 'deployment.kubernetes.io/revision';
const CHANGE_CAUSE = 'kubernetes.io/change-cause';
/** Set by the deployment controller on each ReplicaSet; not part of the template a rollback restores. */
const TEMPLATE_HASH = 'pod-template-hash';

/**
 * `fix rollback [--to-revision N]`: the runbook's "check recent deployments" turned into its remedy,
 * done as `kubectl rollout undo` does — the deployment's pod template is replaced (JSON patch) by the
 * one of the previous revision's ReplicaSet (or revision N's), and its change-cause comes along. The
 * revision that was left is recorded in the `aegis-ir.dev/rolled-back-from` annotation, the audit log
 * and the plan. Verified by pod health once the rollout is done.
 */
export const rollbackRemediation = defineRemediation<Args>({
  id: 'rollback',
  summary: 'Roll the deployment back to its previous revision, as kubectl rollout undo does',
  description:
    "Replaces the deployment's pod template with the previous revision's (or --to-revision N's), computed by a\n" +
    'server-side dry run and shown as a diff, then waits for the rollout and checks pod health again. The revision\n' +
    'it leaves is recorded in the aegis-ir.dev/rolled-back-from annotation; roll forward again with --to-revision.',
  risk: 'medium',
  anchor: 'issue-high-api-error-rate',
  cap: { unit: 'pods replaced', default: 50 },
  options: () => [new Option('--to-revision <n>', 'the revision to return to (default: the previous one)'), rolloutTimeoutOption()],
  examples: ['aegis-ir fix rollback --dry-run', 'aegis-ir fix rollback --to-revision 3 --yes', 'aegis-ir fix rollback --dry-run -o json'],
  parseArgs(options) {
    return {
      toRevision: options.toRevision === undefined ? null : positiveWhole('--to-revision', options.toRevision),
      rolloutTimeoutMs: rolloutTimeoutOf(options),
    };
  },
  checks: async () => [podHealthCheck],
  async open(ctx, args) {
    const kube = await ctx.kube();
    const remediation = { plan: (k: KubePort, d: V1Deployment, signal: AbortSignal) => planRollback(k, d, args.toRevision, signal), verifyWith: [podHealthCheck] };
    return new WorkloadPatchSession(ctx, kube, remediation, args.rolloutTimeoutMs);
  },
});

/** The JSON patch from the deployment as it is to revision `toRevision` (default: the one before the current). */
export async function planRollback(
  kube: KubePort,
  deployment: V1Deployment,
  toRevision: number | null,
  signal: AbortSignal,
): Promise<WorkloadPlan> {
  const name = deployment.metadata?.name ?? '';
  const revisions = (await ownedReplicaSets(kube, deployment, signal)).map((rs) => ({ rs, ...revisionOf(rs) })).sort((a, b) => b.revision - a.revision);
  const currentNumber = Number(deployment.metadata?.annotations?.[REVISION] ?? revisions[0]?.revision ?? 0);
  const current = revisions.find((r) => r.revision === currentNumber);
  const target =
    toRevision === null ? revisions.find((r) => r.revision < currentNumber) : revisions.find((r) => r.revision === toRevision);
  if (!target) {
    throw new UsageError(
      toRevision === null
        ? `deployment/${name} has no revision before ${currentNumber} to roll back to`
        : `deployment/${name} has no revision ${toRevision}; it has ${revisions.map((r) => r.revision).join(', ') || 'none'}`,
      `list them with: kubectl -n ${kube.namespace} rollout history deployment/${name}`,
    );
  }
  const describe = (r: { revision: number; changeCause: string | null; image: string }) => `revision ${r.revision} (${r.changeCause ?? r.image})`;
  const from = current ? describe(current) : `revision ${currentNumber}`;
  const template = templateWithoutHash(target.rs.spec?.template ?? {});
  const identity = { deployment: objectIdentity(deployment, deployment.spec?.template), from: currentNumber, to: target.revision, replicaSet: target.replicaSet };
  if (JSON.stringify(template) === JSON.stringify(templateWithoutHash(deployment.spec?.template ?? {}))) {
    return { summary: `deployment/${name} already runs the template of ${describe(target)}: nothing to do`, changes: [], goal: { kind: 'rollout' }, identity, size: 0, notes: [] };
  }
  const annotations = { [ROLLED_BACK_FROM]: from, ...(target.changeCause ? { [CHANGE_CAUSE]: target.changeCause } : {}) };
  const patch: JsonPatchOperation[] = [{ op: 'replace', path: '/spec/template', value: template }];
  if (deployment.metadata?.annotations) {
    for (const [key, value] of Object.entries(annotations)) patch.push({ op: 'add', path: `/metadata/annotations/${pointerKey(key)}`, value });
  } else {
    patch.push({ op: 'add', path: '/metadata/annotations', value: annotations });
  }
  const replicas = deployment.spec?.replicas ?? 1;
  return {
    summary: `roll deployment/${name} back from ${from} to ${describe(target)}`,
    changes: [{ kind: 'deployment', current: deployment, patch: { type: 'json', body: patch }, description: `replace the pod template of deployment/${name} with ${describe(target)}'s` }],
    goal: { kind: 'rollout' },
    identity,
    size: replicas,
    notes: [`${from} is left behind; to return to it: aegis-ir fix rollback --to-revision ${currentNumber}`],
  };
}

function templateWithoutHash(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const copy = structuredClone(template);
  if (copy.metadata?.labels) delete copy.metadata.labels[TEMPLATE_HASH];
  return copy;
}
