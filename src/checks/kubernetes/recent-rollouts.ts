import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { formatDuration } from '../../core/duration.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import { defineCheck, type EvaluationEnv } from '../check.js';
import { KUBERNETES_FINDINGS as F } from './findings.js';
import { workloadSnapshot } from './snapshot.js';

/** One revision of the deployment, as `kubectl rollout history` lists it. */
export interface Revision {
  revision: number;
  replicaSet: string;
  image: string;
  changeCause: string | null;
  createdAt: string | null;
  replicas: number;
}

/** Where the deployment's rollout stands, from its Progressing condition and replica counts. */
export interface RolloutState {
  revision: number;
  /** `progressing` within its deadline, `stalled` past it (ProgressDeadlineExceeded), or `complete`. */
  status: 'complete' | 'progressing' | 'stalled';
  desired: number;
  updated: number;
  ready: number;
  /** `progressDeadlineSeconds`, in seconds. */
  deadlineSeconds: number;
  message: string | null;
}

/** Evidence of the recent-rollouts check: the deployment's revisions, newest first, and its rollout. */
export interface RolloutEvidence {
  deployment: string;
  revisions: Revision[];
  rollout?: RolloutState | null;
}

const REVISION = 'deployment.kubernetes.io/revision';
const CHANGE_CAUSE = 'kubernetes.io/change-cause';
/** Progressing reasons of a rollout still under way (the deployment controller's words). */
const UNDER_WAY = new Set(['ReplicaSetUpdated', 'NewReplicaSetCreated', 'FoundNewReplicaSet']);

/**
 * Recent rollouts (`kubectl rollout history deployment/aegis-api`, `kubectl rollout status`): the
 * ReplicaSets the deployment owns, with revision, change-cause, image and age, and where the current
 * rollout stands. A rollout inside the configured window is reported; one in progress is reported as
 * such (not as a degradation), and one past its progress deadline is a finding naming the revision.
 * Triage names a rollout as the suspect only on evidence specific to it (see rollout-suspect).
 */
export const recentRolloutsCheck = defineCheck<RolloutEvidence>({
  id: 'recent-rollouts',
  title: 'Recent deployments',
  target: 'cluster',
  async collect(ctx) {
    const snapshot = await workloadSnapshot(ctx);
    if (!snapshot.deployment) return { deployment: snapshot.name, revisions: [], rollout: null };
    return {
      deployment: snapshot.name,
      revisions: snapshot.replicaSets.map(revisionOf).sort((a, b) => b.revision - a.revision),
      rollout: rolloutState(snapshot.deployment),
    };
  },
  evaluate: evaluateRollouts,
});

/** Where a deployment's rollout stands, as `kubectl rollout status` would say. */
export function rolloutState(deployment: V1Deployment): RolloutState {
  const status = deployment.status ?? {};
  const desired = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  const stale = (status.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0);
  const underWay = stale || UNDER_WAY.has(progressing?.reason ?? '') || updated < desired || (status.replicas ?? 0) > updated;
  return {
    revision: Number(deployment.metadata?.annotations?.[REVISION] ?? 0),
    status: progressing?.reason === 'ProgressDeadlineExceeded' ? 'stalled' : underWay ? 'progressing' : 'complete',
    desired,
    updated,
    ready: status.readyReplicas ?? 0,
    deadlineSeconds: deployment.spec?.progressDeadlineSeconds ?? 600,
    message: progressing?.message ?? null,
  };
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
  const findings = rolloutProgressFindings(evidence);
  if (!current?.createdAt) return findings;
  const age = env.now.getTime() - Date.parse(current.createdAt);
  if (age > env.config.triage.rolloutWindow) return findings;
  return [
    ...findings,
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

function rolloutProgressFindings(evidence: RolloutEvidence): Finding[] {
  const rollout = evidence.rollout;
  if (!rollout || rollout.status === 'complete') return [];
  const common = { check: 'recent-rollouts', resource: `deployment/${evidence.deployment}`, evidence: { rollout } };
  return [
    rollout.status === 'stalled'
      ? makeFinding(F.rolloutStalled, {
          ...common,
          params: { deployment: evidence.deployment, revision: rollout.revision, message: rollout.message ?? 'ProgressDeadlineExceeded' },
          next: [`kubectl rollout status deployment/${evidence.deployment} --watch=false`, 'aegis-ir fix rollback --dry-run'],
        })
      : makeFinding(F.rolloutInProgress, {
          ...common,
          params: {
            deployment: evidence.deployment,
            revision: rollout.revision,
            updated: rollout.updated,
            desired: rollout.desired,
            ready: rollout.ready,
            deadline: formatDuration(rollout.deadlineSeconds * 1000),
          },
          next: [`kubectl rollout status deployment/${evidence.deployment} --watch=false`],
        }),
  ];
}
