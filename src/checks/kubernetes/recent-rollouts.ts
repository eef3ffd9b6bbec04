import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { formatDuration } from '../../core/duration.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import type { KubePort } from '../../kube/port.js';
import { defineCheck, type EvaluationEnv } from '../check.js';
import { KUBERNETES_FINDINGS as F } from './findings.js';

/** One revision of the deployment, as `kubectl rollout history` lists it. */
export interface Revision {
  revision: number;
  replicaSet: string;
  image: string;
  changeCause: string | null;
  createdAt: string | null;
  replicas: number;
}

/** Evidence of the recent-rollouts check: the deployment's revisions, newest first. */
export interface RolloutEvidence {
  deployment: string;
  revisions: Revision[];
}

const REVISION = 'deployment.kubernetes.io/revision';
const CHANGE_CAUSE = 'kubernetes.io/change-cause';

/**
 * Recent rollouts (`kubectl rollout history deployment/aegis-api`): the ReplicaSets the deployment
 * owns, with revision, change-cause, image and age. A rollout inside the configured window is
 * reported; triage names it as the suspect when other symptoms began after it.
 */
export const recentRolloutsCheck = defineCheck<RolloutEvidence>({
  id: 'recent-rollouts',
  title: 'Recent deployments',
  target: 'cluster',
  async collect(ctx) {
    const kube = await ctx.kube();
    const name = ctx.config.app.deployment;
    const deployment = await kube.readDeployment(name);
    if (!deployment) return { deployment: name, revisions: [] };
    const owned = await ownedReplicaSets(kube, deployment);
    return { deployment: name, revisions: owned.map(revisionOf).sort((a, b) => b.revision - a.revision) };
  },
  evaluate: evaluateRollouts,
});

/** The ReplicaSets a deployment owns: its revisions, as `kubectl rollout history` finds them. */
export async function ownedReplicaSets(kube: KubePort, deployment: V1Deployment): Promise<V1ReplicaSet[]> {
  const selector = Object.entries(deployment.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const uid = deployment.metadata?.uid;
  return (await kube.listReplicaSets(selector || undefined)).filter((rs) =>
    rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && (!uid || o.uid === uid)),
  );
}

export function revisionOf(rs: V1ReplicaSet): Revision {
  const annotations = rs.metadata?.annotations ?? {};
  const created = rs.metadata?.creationTimestamp;
  return {
    revision: Number(annotations[REVISION] ?? 0),
    replicaSet: rs.metadata?.name ?? '',
    image: rs.spec?.template?.spec?.containers?.map((c) => c.image).join(',') ?? '',
    changeCause: annotations[CHANGE_CAUSE] ?? null,
    createdAt: created ? new Date(created).toISOString() : null,
    replicas: rs.status?.replicas ?? 0,
  };
}

export function evaluateRollouts(evidence: RolloutEvidence, env: EvaluationEnv): Finding[] {
  const [current, previous] = evidence.revisions;
  if (!current?.createdAt) return [];
  const age = env.now.getTime() - Date.parse(current.createdAt);
  if (age > env.config.triage.rolloutWindow) return [];
  return [
    makeFinding(F.recentRollout, {
      check: 'recent-rollouts',
      params: {
        deployment: evidence.deployment,
        revision: current.revision,
        cause: current.changeCause ?? current.image,
        ago: formatDuration(age),
      },
      resource: `deployment/${evidence.deployment}`,
      evidence: { current, previous: previous ?? null },
      since: current.createdAt,
    }),
  ];
}
