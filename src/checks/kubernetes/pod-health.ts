import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { formatDuration } from '../../core/duration.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import { defineCheck, type EvaluationEnv } from '../check.js';
import { KUBERNETES_FINDINGS as F } from './findings.js';

/** Waiting reasons that mean a container cannot run, as `kubectl get pods` shows them. */
const FAILING_REASONS = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'InvalidImageName',
]);

export interface ContainerState {
  name: string;
  ready: boolean;
  restartCount: number;
  waitingReason: string | null;
  waitingMessage: string | null;
  lastTerminated: { reason: string; exitCode: number; finishedAt: string | null } | null;
}

export interface PodState {
  name: string;
  phase: string;
  ready: boolean;
  terminating: boolean;
  startTime: string | null;
  containers: ContainerState[];
}

/** Evidence of the pod-health check: the deployment's replica counts and each app pod's state. */
export interface PodHealthEvidence {
  namespace: string;
  deployment: string;
  selector: string;
  replicas: { desired: number; ready: number; available: number; updated: number } | null;
  pods: PodState[];
}

/** Reduces a pod to the fields triage reasons about. */
export function podState(pod: V1Pod): PodState {
  const statuses = pod.status?.containerStatuses ?? [];
  return {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: isPodReady(pod),
    terminating: Boolean(pod.metadata?.deletionTimestamp),
    startTime: isoOf(pod.status?.startTime),
    containers: statuses.map(containerState),
  };
}

/** Whether the pod's Ready condition is True: it is in its Service's endpoints and serves traffic. */
export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function containerState(status: V1ContainerStatus): ContainerState {
  const last = status.lastState?.terminated;
  return {
    name: status.name,
    ready: status.ready,
    restartCount: status.restartCount,
    waitingReason: status.state?.waiting?.reason ?? null,
    waitingMessage: status.state?.waiting?.message ?? null,
    lastTerminated: last
      ? { reason: last.reason ?? 'Unknown', exitCode: last.exitCode, finishedAt: isoOf(last.finishedAt) }
      : null,
  };
}

function isoOf(value: Date | string | undefined | null): string | null {
  if (!value) return null;
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

/**
 * Pod health (`kubectl get pods`): phase, readiness, waiting reasons, OOMKilled last states, recent
 * restarts and ready versus desired replicas. This is the evidence for SPEC's "no ready pod" (SEV1),
 * "half or more pods crash-looping" (SEV2) and "some pods OOMKilled or restarting while others
 * serve" (SEV3).
 */
export const podHealthCheck = defineCheck<PodHealthEvidence>({
  id: 'pod-health',
  title: 'Pod status and restarts',
  target: 'cluster',
  async collect(ctx) {
    const kube = await ctx.kube();
    const { deployment: name, selector } = ctx.config.app;
    const [deployment, pods] = await Promise.all([kube.readDeployment(name), kube.listPods(selector)]);
    return {
      namespace: kube.namespace,
      deployment: name,
      selector,
      replicas: deployment
        ? {
            desired: deployment.spec?.replicas ?? 1,
            ready: deployment.status?.readyReplicas ?? 0,
            available: deployment.status?.availableReplicas ?? 0,
            updated: deployment.status?.updatedReplicas ?? 0,
          }
        : null,
      pods: pods.map(podState).sort((a, b) => a.name.localeCompare(b.name)),
    };
  },
  evaluate: evaluatePodHealth,
});

/** Pure evaluation of {@link PodHealthEvidence}; see the check's description for the rules. */
export function evaluatePodHealth(evidence: PodHealthEvidence, env: EvaluationEnv): Finding[] {
  const check = 'pod-health';
  const { deployment, replicas } = evidence;
  const pods = evidence.pods.filter((p) => !p.terminating);
  const findings: Finding[] = [];
  if (!replicas && pods.length === 0) {
    return [
      makeFinding(F.workloadMissing, {
        check,
        params: { deployment, namespace: evidence.namespace, selector: evidence.selector },
        resource: `deployment/${deployment}`,
        next: [`aegis-ir triage -n <namespace>   # if Aegis runs in another namespace than ${evidence.namespace}`],
      }),
    ];
  }
  const ready = pods.filter((p) => p.ready);
  const desired = replicas?.desired ?? pods.length;
  // A deployment scaled to zero serves nothing either: no ready pod is the API down, whatever was desired.
  if (ready.length === 0) {
    findings.push(
      makeFinding(F.noReadyPods, {
        check,
        params: { deployment, desired, pods: pods.length },
        resource: `deployment/${deployment}`,
        evidence: { desired, ready: 0, pods: pods.map((p) => `${p.name} ${p.phase}${failingReason(p) ? ` ${failingReason(p)}` : ''}`) },
        next: ['aegis-ir diagnose api-errors'],
        since: earliest(pods.map((p) => p.startTime)),
      }),
    );
  } else if (replicas && ready.length < desired) {
    findings.push(
      makeFinding(F.degradedDeployment, {
        check,
        params: { deployment, ready: ready.length, desired },
        resource: `deployment/${deployment}`,
        evidence: { desired, ready: ready.length, notReady: pods.filter((p) => !p.ready).map((p) => p.name) },
        next: ['aegis-ir diagnose api-errors'],
      }),
    );
  }

  const failing = pods.filter((p) => failingReason(p));
  if (failing.length) {
    const reasons = countBy(failing.map((p) => failingReason(p) as string));
    const most = failing.length / Math.max(pods.length, 1) >= env.config.thresholds.crashLoopShare;
    findings.push(
      makeFinding(most ? F.mostPodsFailing : F.somePodsFailing, {
        check,
        params: { failing: failing.length, total: pods.length, reasons },
        resource: failing.length === 1 ? `pod/${failing[0]?.name}` : `deployment/${deployment}`,
        evidence: {
          pods: failing.map((p) => ({
            pod: p.name,
            reason: failingReason(p),
            restarts: p.containers.reduce((n, c) => n + c.restartCount, 0),
            message: p.containers.find((c) => c.waitingMessage)?.waitingMessage ?? null,
          })),
        },
        next: ['aegis-ir diagnose api-errors'],
        since: earliest(failing.map((p) => p.startTime)),
      }),
    );
  }

  const windowStart = env.now.getTime() - env.config.triage.restartWindow;
  for (const pod of pods) {
    if (failingReason(pod)) continue;
    for (const container of pod.containers) {
      const last = container.lastTerminated;
      if (!last?.finishedAt || Date.parse(last.finishedAt) < windowStart) continue;
      const ago = formatDuration(env.now.getTime() - Date.parse(last.finishedAt));
      const common = {
        check,
        resource: `pod/${pod.name}`,
        evidence: { container: container.name, restarts: container.restartCount, lastState: last },
        since: last.finishedAt,
      };
      findings.push(
        last.reason === 'OOMKilled'
          ? makeFinding(F.oomKilled, {
              ...common,
              params: { pod: pod.name, container: container.name, ago, restarts: container.restartCount },
              next: ['aegis-ir fix memory-limit --factor 1.5 --dry-run'],
            })
          : makeFinding(F.restarting, {
              ...common,
              params: { pod: pod.name, container: container.name, ago, restarts: container.restartCount, reason: `${last.reason}, exit ${last.exitCode}` },
              next: ['aegis-ir diagnose api-errors'],
            }),
      );
    }
  }
  return findings;
}

/** Why a pod cannot run, if it cannot: the first failing waiting reason of its containers. */
export function failingReason(pod: PodState): string | null {
  for (const c of pod.containers) {
    if (c.waitingReason && FAILING_REASONS.has(c.waitingReason)) return c.waitingReason;
  }
  return pod.phase === 'Failed' ? 'Failed' : null;
}

function countBy(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(', ');
}

function earliest(times: Array<string | null>): string | null {
  const known = times.filter((t): t is string => Boolean(t)).sort();
  return known[0] ?? null;
}
