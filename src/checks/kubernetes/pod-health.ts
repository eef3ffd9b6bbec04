import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { formatDuration } from '../../core/duration.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import type { Config } from '../../core/config.js';
import { defineCheck, type EvaluationEnv } from '../check.js';
import { KUBERNETES_FINDINGS as F } from './findings.js';
import { rolloutState, type RolloutState } from './recent-rollouts.js';
import { appContainerName, podRevision, workloadSnapshot, type WorkloadSnapshot } from './snapshot.js';
import { compareNames } from '../../kube/names.js';

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

/** What a container is to the app: the app itself, a sidecar (regular or native) or an init step. */
export type ContainerRole = 'app' | 'sidecar' | 'init';

export interface ContainerState {
  name: string;
  /** Absent in older evidence: the app container. */
  role?: ContainerRole;
  image?: string;
  ready: boolean;
  restartCount: number;
  waitingReason: string | null;
  waitingMessage: string | null;
  /** How the current instance ended, when it has (an init container that ran). */
  terminated?: { reason: string; exitCode: number } | null;
  lastTerminated: { reason: string; exitCode: number; finishedAt: string | null } | null;
}

export interface PodState {
  name: string;
  phase: string;
  ready: boolean;
  terminating: boolean;
  startTime: string | null;
  /** When the Ready condition last changed: since then the pod has been ready, or unready. */
  readySince?: string | null;
  /** Why the pod is in its phase (`Evicted`) and the kubelet's message. */
  reason?: string | null;
  message?: string | null;
  /** The revision of the ReplicaSet that owns it. */
  revision?: number | null;
  node?: string | null;
  /** The node's Ready message when the node is NotReady. */
  nodeNotReady?: string | null;
  /** The scheduler's message when the pod cannot be scheduled (PodScheduled=False, Unschedulable). */
  unschedulable?: string | null;
  containers: ContainerState[];
}

/** A pod the selector matched that another workload owns (a canary Deployment, a Job). */
export interface OtherPod {
  name: string;
  owner: string;
  phase: string;
  ready: boolean;
}

/** Evidence of the pod-health check: the deployment's replica counts and each of its own pods' state. */
export interface PodHealthEvidence {
  namespace: string;
  deployment: string;
  selector: string;
  replicas: { desired: number; ready: number; available: number; updated: number } | null;
  /** When the deployment is missing: the ones the namespace has. */
  existing?: string[];
  /** The deployment's rollout, to tell a rolling update from a degraded deployment. */
  rollout?: RolloutState | null;
  pods: PodState[];
  others?: OtherPod[];
}

/** Reduces a pod to the fields triage reasons about. */
export function podState(pod: V1Pod, snapshot?: Pick<WorkloadSnapshot, 'replicaSets' | 'nodes'>, app?: Config['app']): PodState {
  const appName = app ? appContainerName(pod, app) : pod.spec?.containers?.[0]?.name;
  const native = new Set(pod.spec?.initContainers?.filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  const images = new Map([...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => [c.name, c.image]));
  const roleOf = (name: string, init: boolean): ContainerRole => (native.has(name) ? 'sidecar' : init ? 'init' : name === appName ? 'app' : 'sidecar');
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  const node = pod.spec?.nodeName ?? null;
  const nodeState = node ? snapshot?.nodes[node] : undefined;
  return {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: isPodReady(pod),
    terminating: Boolean(pod.metadata?.deletionTimestamp),
    startTime: isoOf(pod.status?.startTime),
    readySince: isoOf(pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime),
    reason: pod.status?.reason ?? null,
    message: pod.status?.message ?? null,
    revision: snapshot ? podRevision(pod, snapshot.replicaSets) : null,
    node,
    nodeNotReady: nodeState && !nodeState.ready ? (nodeState.message ?? nodeState.reason ?? 'NotReady') : null,
    unschedulable: scheduled?.status === 'False' ? `${scheduled.reason ?? 'Unschedulable'}: ${scheduled.message ?? ''}`.replace(/: $/, '') : null,
    containers: [
      ...(pod.status?.initContainerStatuses ?? []).map((s) => containerState(s, roleOf(s.name, true), images.get(s.name))),
      ...(pod.status?.containerStatuses ?? []).map((s) => containerState(s, roleOf(s.name, false), images.get(s.name))),
    ],
  };
}

/** Whether the pod's Ready condition is True: it is in its Service's endpoints and serves traffic. */
export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function containerState(status: V1ContainerStatus, role: ContainerRole, image: string | undefined): ContainerState {
  const last = status.lastState?.terminated;
  const now = status.state?.terminated;
  return {
    name: status.name,
    role,
    image: image ?? status.image,
    ready: status.ready,
    restartCount: status.restartCount,
    waitingReason: status.state?.waiting?.reason ?? null,
    waitingMessage: status.state?.waiting?.message ?? null,
    terminated: now ? { reason: now.reason ?? 'Unknown', exitCode: now.exitCode } : null,
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
 * Pod health (`kubectl get pods`): phase, readiness, waiting reasons of every container by its role
 * (the app, its sidecars, its init containers), OOMKilled last states, recent restarts, pending
 * reasons, NotReady nodes and ready versus desired replicas, over the Deployment's own pods only.
 * This is the evidence for SPEC's "no ready pod" (SEV1), "half or more pods crash-looping" (SEV2)
 * and "some pods OOMKilled or restarting while others serve" (SEV3). Evicted and other finished
 * pods are not failing to run: they are reported once, as context, as are the pods of other
 * workloads the selector matches (a canary, a Job), which never count toward the verdict.
 */
export const podHealthCheck = defineCheck<PodHealthEvidence>({
  id: 'pod-health',
  title: 'Pod status and restarts',
  target: 'cluster',
  async collect(ctx) {
    const snapshot = await workloadSnapshot(ctx);
    const { deployment } = snapshot;
    return {
      namespace: snapshot.namespace,
      deployment: snapshot.name,
      selector: snapshot.selector,
      replicas: deployment
        ? {
            desired: deployment.spec?.replicas ?? 1,
            ready: deployment.status?.readyReplicas ?? 0,
            available: deployment.status?.availableReplicas ?? 0,
            updated: deployment.status?.updatedReplicas ?? 0,
          }
        : null,
      existing: snapshot.existing,
      rollout: deployment ? rolloutState(deployment) : null,
      pods: snapshot.pods.map((p) => podState(p, snapshot, ctx.config.app)).sort((a, b) => compareNames(a.name, b.name)),
      others: snapshot.others
        .map(({ pod, owner }) => ({ name: pod.metadata?.name ?? '', owner, phase: pod.status?.phase ?? 'Unknown', ready: isPodReady(pod) }))
        .sort((a, b) => compareNames(a.name, b.name)),
    };
  },
  evaluate: evaluatePodHealth,
});

/** Pure evaluation of {@link PodHealthEvidence}; see the check's description for the rules. */
export function evaluatePodHealth(evidence: PodHealthEvidence, env: EvaluationEnv): Finding[] {
  const check = 'pod-health';
  const { deployment, replicas } = evidence;
  const current = evidence.pods.filter((p) => !p.terminating);
  const finished = current.filter((p) => isFinishedPhase(p.phase));
  const pods = current.filter((p) => !isFinishedPhase(p.phase));
  const findings: Finding[] = [];
  if (!replicas) {
    const existing = evidence.existing ?? [];
    return [
      makeFinding(F.workloadMissing, {
        check,
        params: { deployment, namespace: evidence.namespace, existing: existing.length ? existing.join(', ') : 'none' },
        resource: `deployment/${deployment}`,
        evidence: { lookedFor: `deployment/${deployment}`, namespace: evidence.namespace, existing, others: evidence.others ?? [] },
        next: existing.length
          ? existing.slice(0, 3).map((name) => `aegis-ir triage --deployment ${name}`)
          : [`kubectl get deployments --all-namespaces   # then aegis-ir triage with -n and --deployment of the one that runs Aegis`],
      }),
    ];
  }
  const ready = pods.filter((p) => p.ready);
  const desired = replicas.desired;
  // Pods out of service because their app was OOMKilled: the memory diagnosis comes first.
  const notReady = pods.filter((p) => !p.ready);
  const outOfMemory = notReady.length > 0 && notReady.every((p) => p.containers.some((c) => c.role !== 'init' && c.lastTerminated?.reason === 'OOMKilled'));
  const unservedNext = outOfMemory ? [DIAGNOSE_MEMORY, 'aegis-ir diagnose api-errors'] : ['aegis-ir diagnose api-errors'];
  const rollingOut = evidence.rollout ? evidence.rollout.status !== 'complete' : false;
  // A deployment scaled to zero serves nothing either: no ready pod is the API down, whatever was desired.
  if (ready.length === 0) {
    findings.push(
      makeFinding(F.noReadyPods, {
        check,
        params: { deployment, desired, pods: pods.length },
        resource: `deployment/${deployment}`,
        evidence: { desired, ready: 0, pods: pods.map((p) => `${p.name} ${p.phase}${failureOf(p) ? ` ${failureOf(p)?.reason}` : ''}`) },
        next: unservedNext,
        // The API went down when the last pod that served turned unready, not when the pods started.
        since: latest(pods.map((p) => p.readySince ?? p.startTime)),
      }),
    );
  } else if (ready.length < desired && !rollingOut) {
    // A rolling update is short of ready replicas by design; recent-rollouts reports it, and a stuck one.
    findings.push(
      makeFinding(F.degradedDeployment, {
        check,
        params: { deployment, ready: ready.length, desired },
        resource: `deployment/${deployment}`,
        evidence: { desired, ready: ready.length, notReady: notReady.map((p) => p.name) },
        next: unservedNext,
      }),
    );
  }

  const failing = pods.flatMap((p) => {
    const failure = failureOf(p);
    return failure ? [{ pod: p, failure }] : [];
  });
  if (failing.length) {
    const reasons = countBy(failing.map((f) => f.failure.reason));
    const most = failing.length / Math.max(pods.length, 1) >= env.config.thresholds.crashLoopShare;
    findings.push(
      makeFinding(most ? F.mostPodsFailing : F.somePodsFailing, {
        check,
        params: { failing: failing.length, total: pods.length, reasons },
        resource: failing.length === 1 ? `pod/${failing[0]?.pod.name}` : `deployment/${deployment}`,
        evidence: {
          pods: failing.map(({ pod, failure }) => ({
            pod: pod.name,
            reason: failure.reason,
            container: failure.container,
            role: failure.role,
            lastState: failure.lastState,
            revision: pod.revision ?? null,
            restarts: pod.containers.reduce((n, c) => n + c.restartCount, 0),
            message: failure.message,
          })),
          // Pods of older revisions still serving: the failure is specific to the new one.
          servingRevisions: [...new Set(ready.map((p) => p.revision ?? null))],
        },
        next: [...new Set(failing.flatMap(({ failure }) => nextFor(failure)))],
        since: earliest(failing.map(({ pod }) => pod.startTime)),
      }),
    );
  }

  const windowStart = env.now.getTime() - env.config.triage.restartWindow;
  for (const pod of pods) {
    if (failureOf(pod)) continue;
    for (const container of pod.containers) {
      const last = container.lastTerminated;
      if (container.role === 'init' || !last?.finishedAt || Date.parse(last.finishedAt) < windowStart) continue;
      const ago = formatDuration(env.now.getTime() - Date.parse(last.finishedAt));
      const common = {
        check,
        resource: `pod/${pod.name}`,
        evidence: { container: container.name, role: container.role ?? 'app', restarts: container.restartCount, lastState: last },
        since: last.finishedAt,
      };
      findings.push(
        last.reason === 'OOMKilled'
          ? makeFinding(F.oomKilled, {
              ...common,
              params: { pod: pod.name, container: container.name, ago, restarts: container.restartCount },
              next: [DIAGNOSE_MEMORY],
            })
          : makeFinding(F.restarting, {
              ...common,
              params: { pod: pod.name, container: container.name, ago, restarts: container.restartCount, reason: `${last.reason}, exit ${last.exitCode}` },
              next: ['aegis-ir diagnose api-errors'],
            }),
      );
    }
  }

  if (finished.length) {
    const oldest = earliest(finished.map((p) => p.startTime));
    findings.push(
      makeFinding(F.finishedPods, {
        check,
        params: {
          count: finished.length,
          deployment,
          reasons: countBy(finished.map((p) => p.reason ?? p.phase)),
          age: oldest ? formatDuration(env.now.getTime() - Date.parse(oldest)) : 'unknown',
        },
        resource: `deployment/${deployment}`,
        evidence: { pods: finished.map((p) => ({ pod: p.name, phase: p.phase, reason: p.reason ?? null, message: p.message ?? null, startTime: p.startTime })) },
        next: [`kubectl delete pods -n ${evidence.namespace} --field-selector=status.phase=Failed   # once they are understood`],
      }),
    );
  }
  const others = evidence.others ?? [];
  if (others.length) {
    findings.push(
      makeFinding(F.otherWorkloads, {
        check,
        params: { count: others.length, selector: evidence.selector, deployment, owners: countBy(others.map((o) => o.owner)) },
        resource: null,
        evidence: { pods: others },
      }),
    );
  }
  return findings;
}

/** Why a pod cannot run, by the container that stops it. */
export interface Failure {
  /** As `kubectl get pods` shows it, with the container when it is not the app: `Init:CrashLoopBackOff (migrate)`. */
  reason: string;
  container: string | null;
  role: ContainerRole | null;
  /** The container's last termination reason (`OOMKilled`), kept so the decision sees it. */
  lastState: string | null;
  message: string | null;
}

/**
 * Why a pod cannot run, if it cannot: an init container failing (before the others start), the
 * app's container, a sidecar, the scheduler, or its node. Finished and terminating pods are not
 * failing: their ReplicaSet replaces them.
 */
export function failureOf(pod: PodState): Failure | null {
  if (isFinishedPhase(pod.phase) || pod.terminating) return null;
  const byRole = (role: ContainerRole) => pod.containers.filter((c) => (c.role ?? 'app') === role);
  for (const c of byRole('init')) {
    if (c.waitingReason && FAILING_REASONS.has(c.waitingReason)) return failure(`Init:${c.waitingReason} (${c.name})`, c, c.waitingMessage);
    if (c.terminated && c.terminated.exitCode !== 0) return failure(`Init:${c.terminated.reason === 'Error' ? 'Error' : `ExitCode:${c.terminated.exitCode}`} (${c.name})`, c, null);
  }
  for (const role of ['app', 'sidecar'] as const) {
    for (const c of byRole(role)) {
      if (!c.waitingReason || !FAILING_REASONS.has(c.waitingReason)) continue;
      const oom = c.lastTerminated?.reason === 'OOMKilled' ? ', OOMKilled' : '';
      const label = role === 'app' ? (oom ? `${c.waitingReason} (OOMKilled)` : c.waitingReason) : `${c.waitingReason} (sidecar ${c.name}${oom})`;
      const pulling = c.waitingReason === 'ImagePullBackOff' || c.waitingReason === 'ErrImagePull';
      return failure(label, c, pulling ? `image ${c.image ?? 'unknown'}: ${c.waitingMessage ?? ''}`.replace(/: $/, '') : c.waitingMessage);
    }
  }
  if (pod.unschedulable) return { reason: 'Unschedulable', container: null, role: null, lastState: null, message: pod.unschedulable };
  if (pod.nodeNotReady && !pod.ready) {
    return { reason: `NodeNotReady (${pod.node})`, container: null, role: null, lastState: null, message: pod.nodeNotReady };
  }
  return null;
}

function failure(reason: string, c: ContainerState, message: string | null): Failure {
  return { reason, container: c.name, role: c.role ?? 'app', lastState: c.lastTerminated?.reason ?? null, message: message || null };
}

function isFinishedPhase(phase: string): boolean {
  return phase === 'Failed' || phase === 'Succeeded';
}

/**
 * The runbook's High Memory Usage diagnosis, where an OOMKill or a container near its limit points: it finds
 * what holds the memory before any fix, and ends with the remediation that fits (restart, limit, batch size).
 */
export const DIAGNOSE_MEMORY = 'aegis-ir diagnose memory';

function nextFor(failure: Failure): string[] {
  return failure.lastState === 'OOMKilled' && failure.container
    ? [DIAGNOSE_MEMORY, 'aegis-ir diagnose api-errors']
    : ['aegis-ir diagnose api-errors'];
}

function countBy(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(', ');
}

function earliest(times: Array<string | null>): string | null {
  return knownTimes(times)[0] ?? null;
}

function latest(times: Array<string | null>): string | null {
  return knownTimes(times).at(-1) ?? null;
}

/** The times that are known, in order (ISO 8601 in UTC sorts as text). */
function knownTimes(times: Array<string | null>): string[] {
  return times.filter((t): t is string => Boolean(t)).sort();
}
