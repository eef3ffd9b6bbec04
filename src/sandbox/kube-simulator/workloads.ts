import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { podTemplateHash } from './names.js';
import { DEPLOYMENT, PDB, POD, POD_METRICS, REPLICA_SET } from './resources.js';
import type { ContainerUsage } from './runtime.js';
import { badRequest } from './status.js';
import type { KubeObject, ObjectStore, OwnerReference } from './store.js';
import { rfc3339 } from './time.js';

/*
 * Builders for the workload objects (ReplicaSets, Pods, PodMetrics) and the status fields the deployment and
 * replicaset controllers would maintain. Shared by the scenario compiler and the simulated deployment controller so
 * that a pod born from a scenario and one born from a rollout look the same.
 */

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
const TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** A `v1.ContainerState` document: exactly one of running, waiting, terminated. */
export type ContainerState = Record<string, Record<string, unknown>>;

/** How one container of a pod is to be shown. */
export interface ContainerPlan {
  readonly name: string;
  readonly ready: boolean;
  readonly restartCount: number;
  readonly state: ContainerState;
  /** `{}` when the container never restarted, else `{terminated: {...}}`. */
  readonly lastState: ContainerState;
  readonly usage?: ContainerUsage;
}

/** Everything needed to create a pod owned by a ReplicaSet. */
export interface PodPlan {
  readonly replicaSet: KubeObject;
  readonly name: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly startTime: Date;
  /** When the Ready condition last changed (the pod turned unready, or ready); the start time when absent. */
  readonly readySince?: Date;
  /** Absent for a pod the scheduler could not place. */
  readonly nodeName: string | undefined;
  readonly podIP: string;
  /** One per container of the template, in any order. */
  readonly containers: readonly ContainerPlan[];
  /** One per init container of the template. */
  readonly initContainers?: readonly ContainerPlan[];
  /** Status reason and message (`Evicted`, with the kubelet's words). */
  readonly reason?: string;
  readonly message?: string;
  /** The scheduler's message for a pod it cannot place. */
  readonly unschedulable?: string;
}

type Json = Record<string, unknown>;

/** The pod template of a workload object. */
export function templateOf(workload: KubeObject): Json {
  return ((workload['spec'] as Json | undefined)?.['template'] ?? {}) as Json;
}

/** A template with the `pod-template-hash` label removed, for comparing a ReplicaSet's template to a Deployment's. */
function withoutTemplateHash(template: Json): Json {
  const copy = structuredClone(template);
  const labels = (copy['metadata'] as Json | undefined)?.['labels'] as Record<string, string> | undefined;
  if (labels !== undefined) delete labels[TEMPLATE_HASH_LABEL];
  return copy;
}

/**
 * A value with null, empty-object and empty-list fields removed. Clients serialise typed structs, so a template sent
 * back by kubectl (rollout undo) carries `creationTimestamp: null` and `resources: {}` that the stored one lacks; the
 * apiserver's typed decoding makes those equal, and so must every comparison here.
 */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).map(([k, v]) => [k, canonical(v)] as const).filter(([, v]) =>
    v !== null && v !== undefined && !(typeof v === 'object' && Object.keys(v).length === 0));
  return Object.fromEntries(entries);
}

/** True when two pod templates are the same once serialisation noise is ignored. */
export function templatesEqual(a: Json, b: Json): boolean {
  return isDeepStrictEqual(canonical(a), canonical(b));
}

/** True when a ReplicaSet's template is the Deployment's template (ignoring the hash label). */
export function sameTemplate(replicaSet: KubeObject, deployment: KubeObject): boolean {
  return templatesEqual(withoutTemplateHash(templateOf(replicaSet)), withoutTemplateHash(templateOf(deployment)));
}

/** The revision number of a ReplicaSet (0 when unannotated). */
export function revisionOf(replicaSet: KubeObject): number {
  return Number(replicaSet.metadata.annotations?.[REVISION_ANNOTATION] ?? 0);
}

/** An owner reference pointing at `owner` as its controller. */
function controllerRef(owner: KubeObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid,
    controller: true, blockOwnerDeletion: true };
}

/** True when `object` is controlled by `owner`. */
export function isControlledBy(object: KubeObject, owner: KubeObject): boolean {
  return object.metadata.ownerReferences?.some((r) => r.controller === true && r.uid === owner.metadata.uid) ?? false;
}

/** `spec.replicas` of a Deployment or ReplicaSet, 1 when unset as the apiserver defaults it. */
export function specReplicas(workload: KubeObject): number {
  return Number((workload['spec'] as Json | undefined)?.['replicas'] ?? 1);
}

function rollingUpdatePercent(replicas: number, roundUp: boolean): number {
  return roundUp ? Math.ceil(replicas * 0.25) : Math.floor(replicas * 0.25);
}

/** Creates the ReplicaSet for one revision of a Deployment, as the deployment controller names and labels it. */
export function createReplicaSet(store: ObjectStore, deployment: KubeObject, options: {
  revision: number; replicas: number; createdAt: Date; annotations?: Record<string, string>;
}): KubeObject {
  const template = withoutTemplateHash(templateOf(deployment));
  const hash = podTemplateHash(canonical(template));
  const labels = { ...((template['metadata'] as Json | undefined)?.['labels'] as Record<string, string>),
    [TEMPLATE_HASH_LABEL]: hash };
  const selector = (deployment['spec'] as Json)['selector'] as { matchLabels: Record<string, string> };
  const desired = specReplicas(deployment);
  return store.create(REPLICA_SET, {
    metadata: {
      name: `${deployment.metadata.name}-${hash}`,
      namespace: deployment.metadata.namespace,
      creationTimestamp: rfc3339(options.createdAt),
      labels,
      annotations: {
        ...options.annotations,
        'deployment.kubernetes.io/desired-replicas': String(desired),
        'deployment.kubernetes.io/max-replicas': String(desired + rollingUpdatePercent(desired, true)),
        [REVISION_ANNOTATION]: String(options.revision),
      },
      ownerReferences: [controllerRef(deployment)],
    },
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: { ...selector.matchLabels, [TEMPLATE_HASH_LABEL]: hash } },
      template: { ...template, metadata: { ...(template['metadata'] as Json), labels } },
    },
    status: { replicas: 0, observedGeneration: 1 },
  });
}

function fakeDigest(seed: string): string {
  return createHash('sha256').update(seed).digest('hex');
}

/** Creates a pod (and its PodMetrics when usage is known) from a plan. */
export function createPod(store: ObjectStore, plan: PodPlan): KubeObject {
  const rs = plan.replicaSet;
  const template = templateOf(rs);
  const spec = structuredClone(template['spec'] as Json);
  const containers = spec['containers'] as { name: string; image: string }[];
  const initContainers = (spec['initContainers'] ?? []) as { name: string; image: string }[];
  const created = store.create(POD, {
    metadata: {
      name: plan.name,
      generateName: `${rs.metadata.name}-`,
      namespace: rs.metadata.namespace,
      creationTimestamp: rfc3339(plan.startTime),
      labels: { ...((template['metadata'] as Json)['labels'] as Record<string, string>) },
      ownerReferences: [controllerRef(rs)],
    },
    spec: { ...spec, ...(plan.nodeName === undefined ? {} : { nodeName: plan.nodeName }) },
    status: { phase: 'Pending', qosClass: 'Burstable' },
  });
  const start = rfc3339(plan.startTime);
  const readySince = plan.readySince === undefined ? start : rfc3339(plan.readySince);
  const statusOf = (plans: readonly ContainerPlan[]) => (c: { name: string; image: string }) => {
    const p = plans.find((candidate) => candidate.name === c.name);
    if (p === undefined) throw new Error(`pod plan ${plan.name} lacks container ${c.name}`);
    const state = structuredClone(p.state);
    const waiting = state['waiting'];
    if (waiting?.['reason'] === 'CrashLoopBackOff' && waiting['message'] === undefined) {
      waiting['message'] = `back-off ${backOff(p.restartCount)} restarting failed container=${c.name} ` +
        `pod=${plan.name}_${rs.metadata.namespace ?? ''}(${created.metadata.uid})`;
    }
    return {
      name: c.name,
      state,
      lastState: p.lastState,
      ready: p.ready,
      restartCount: p.restartCount,
      image: c.image,
      imageID: `${c.image.replace(/:[^/:]+$/, '')}@sha256:${fakeDigest(c.image)}`,
      containerID: `containerd://${fakeDigest(`${plan.name}/${c.name}/${p.restartCount}`)}`,
      started: state['running'] !== undefined,
    };
  };
  const statuses = containers.map(statusOf(plan.containers));
  const initStatuses = initContainers.map(statusOf(plan.initContainers ?? []));
  const initialized = initStatuses.every((s) => s.state['running'] !== undefined
    || (s.state['terminated'] as Json | undefined)?.['exitCode'] === 0);
  const allReady = plan.ready && initialized && statuses.every((s) => s.ready);
  const notReady = statuses.filter((s) => !s.ready).map((s) => s.name);
  const readiness = allReady
    ? { status: 'True' }
    : { status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${notReady.join(' ')}]` };
  const pendingInit = initStatuses.filter((s) => s.state['running'] === undefined
    && (s.state['terminated'] as Json | undefined)?.['exitCode'] !== 0).map((s) => s.name);
  const initializedCondition = initialized ? { status: 'True' } : { status: 'False', reason: 'ContainersNotInitialized',
    message: `containers with incomplete status: [${pendingInit.join(' ')}]` };
  const pod = store.update(POD, {
    ...created,
    status: plan.unschedulable !== undefined ? {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: plan.unschedulable,
        lastProbeTime: null, lastTransitionTime: start }],
      qosClass: 'Burstable',
    } : {
      phase: plan.phase,
      ...(plan.reason === undefined ? {} : { reason: plan.reason }),
      ...(plan.message === undefined ? {} : { message: plan.message }),
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: start },
        { type: 'Initialized', ...initializedCondition, lastProbeTime: null, lastTransitionTime: start },
        { type: 'Ready', ...readiness, lastProbeTime: null, lastTransitionTime: readySince },
        { type: 'ContainersReady', ...readiness, lastProbeTime: null, lastTransitionTime: readySince },
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: start },
      ],
      hostIP: hostIPOf(plan.nodeName ?? ''), hostIPs: [{ ip: hostIPOf(plan.nodeName ?? '') }],
      podIP: plan.podIP, podIPs: [{ ip: plan.podIP }],
      startTime: start,
      ...(initStatuses.length ? { initContainerStatuses: initStatuses } : {}),
      containerStatuses: statuses,
      qosClass: 'Burstable',
    },
  });
  const usage = plan.containers.filter((c) => c.usage !== undefined);
  if (usage.length > 0) {
    store.create(POD_METRICS, {
      metadata: { name: plan.name, namespace: rs.metadata.namespace, labels: pod.metadata.labels },
      timestamp: pod.metadata.creationTimestamp,
      window: '15.01s',
      containers: usage.map((c) => ({ name: c.name, usage: { cpu: c.usage?.cpu, memory: c.usage?.memory } })),
    });
  }
  return pod;
}

/** The simulated cluster's nodes, named the way EKS names them; pods are spread over them. */
export const NODE_NAMES = [
  'ip-10-0-1-23.eu-west-1.compute.internal',
  'ip-10-0-2-41.eu-west-1.compute.internal',
  'ip-10-0-3-17.eu-west-1.compute.internal',
] as const;

/** A node's IP, read from an EKS-style name (`ip-10-0-1-23.…` → `10.0.1.23`). */
function hostIPOf(nodeName: string): string {
  const match = /^ip-(\d+)-(\d+)-(\d+)-(\d+)/.exec(nodeName);
  return match === null ? '10.0.0.10' : match.slice(1, 5).join('.');
}

/** The kubelet's crash back-off after `restarts` restarts: 10s doubling up to 5m, in Go duration form. */
function backOff(restarts: number): string {
  const seconds = Math.min(300, 10 * 2 ** Math.max(0, restarts - 1));
  const minutes = Math.floor(seconds / 60);
  return minutes === 0 ? `${seconds}s` : `${minutes}m${seconds % 60}s`;
}

/**
 * The container a log or exec request is for: the one it names, or the pod's only one. A 400 worded as the apiserver
 * words it when a pod of several containers gets no name, or the name is none of the pod's.
 */
export function requestedContainer(pod: KubeObject, requested: string | null | undefined): string {
  const specified = ((pod['spec'] as Json | undefined)?.['containers'] ?? []) as { name: string }[];
  const containers = specified.map((c) => c.name);
  if (requested === undefined || requested === null || requested === '') {
    if (containers.length !== 1) {
      throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: ` +
        `[${containers.join(' ')}]`);
    }
    return containers[0] ?? '';
  }
  if (!containers.includes(requested)) {
    throw badRequest(`container ${requested} is not valid for pod ${pod.metadata.name}`);
  }
  return requested;
}

/** A pod whose containers finished warming up: every container and the pod's Ready conditions turn True. */
export function markReady(store: ObjectStore, namespace: string, name: string, now: Date): void {
  const pod = store.get(POD, namespace, name);
  if (pod === undefined || isPodReady(pod)) return;
  const status = pod['status'] as Json;
  const at = rfc3339(now);
  const conditions = ((status['conditions'] ?? []) as Json[]).map((c) =>
    (c['type'] === 'Ready' || c['type'] === 'ContainersReady' ? { type: c['type'], status: 'True', lastProbeTime: null, lastTransitionTime: at } : c));
  const containerStatuses = ((status['containerStatuses'] ?? []) as Json[]).map((c) => ({ ...c, ready: true }));
  store.update(POD, { ...pod, status: { ...status, conditions, containerStatuses } });
  refreshWorkloadStatus(store, namespace, now);
}

/** True when the pod's Ready condition is True. */
export function isPodReady(pod: KubeObject): boolean {
  const conditions = ((pod['status'] as Json | undefined)?.['conditions'] ?? []) as { type: string; status: string }[];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * Recomputes the status of every ReplicaSet and Deployment in a namespace from the pods that exist, as their
 * controllers would: replica counts, readiness, availability, and the Available/Progressing conditions.
 */
export function refreshWorkloadStatus(store: ObjectStore, namespace: string, now: Date): void {
  // Active pods only, as the controllers count them: a Failed (evicted) or Succeeded pod is no replica.
  const pods = store.list(POD, namespace).filter((p) => p.metadata['deletionTimestamp'] === undefined
    && !['Failed', 'Succeeded'].includes(String((p['status'] as Json | undefined)?.['phase'])));
  const replicaSets = store.list(REPLICA_SET, namespace);
  for (const rs of replicaSets) {
    const owned = pods.filter((p) => isControlledBy(p, rs));
    const ready = owned.filter(isPodReady).length;
    store.update(REPLICA_SET, {
      ...rs,
      status: {
        replicas: owned.length, fullyLabeledReplicas: owned.length, readyReplicas: ready, availableReplicas: ready,
        observedGeneration: rs.metadata.generation ?? 1,
      },
    });
  }
  for (const deployment of store.list(DEPLOYMENT, namespace)) {
    store.update(DEPLOYMENT, { ...deployment, status: deploymentStatus(deployment, replicaSets, pods, now) });
  }
  for (const budget of store.list(PDB, namespace)) {
    const status = budgetStatus(budget, pods);
    if (!isDeepStrictEqual(status, budget['status'])) store.update(PDB, { ...budget, status });
  }
}

/** Whether a PodDisruptionBudget's selector (matchLabels) selects the pod. */
export function budgetSelects(budget: KubeObject, pod: KubeObject): boolean {
  const match = ((budget['spec'] as Json)['selector'] as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {};
  return Object.entries(match).every(([k, v]) => pod.metadata.labels?.[k] === v);
}

/** A PodDisruptionBudget's status as the disruption controller keeps it, from the pods that exist now. */
export function budgetStatus(budget: KubeObject, pods: KubeObject[]): Json {
  const spec = budget['spec'] as { minAvailable?: number | string; maxUnavailable?: number | string };
  const selected = pods.filter((p) => budgetSelects(budget, p) && p.metadata['deletionTimestamp'] === undefined);
  const expected = selected.length;
  const healthy = selected.filter(isPodReady).length;
  const count = (value: number | string) =>
    typeof value === 'number' ? value : Math.ceil((Number(value.slice(0, -1)) / 100) * expected);
  const desired = spec.minAvailable !== undefined ? count(spec.minAvailable) : Math.max(0, expected - count(spec.maxUnavailable ?? 0));
  return {
    observedGeneration: budget.metadata.generation ?? 1,
    currentHealthy: healthy,
    desiredHealthy: desired,
    expectedPods: expected,
    disruptionsAllowed: Math.max(0, healthy - desired),
  };
}

function deploymentStatus(deployment: KubeObject, allReplicaSets: KubeObject[], allPods: KubeObject[],
  now: Date): Json {
  const desired = specReplicas(deployment);
  const replicaSets = allReplicaSets.filter((rs) => isControlledBy(rs, deployment));
  const current = replicaSets.find((rs) => sameTemplate(rs, deployment));
  const pods = allPods.filter((p) => replicaSets.some((rs) => isControlledBy(p, rs)));
  const updated = current === undefined ? 0 : pods.filter((p) => isControlledBy(p, current)).length;
  const ready = pods.filter(isPodReady).length;
  const since = rfc3339(new Date(current?.metadata.creationTimestamp ?? deployment.metadata.creationTimestamp));
  const available = ready >= desired - rollingUpdatePercent(desired, false);
  const rsName = current?.metadata.name ?? deployment.metadata.name;
  const deadlineSeconds = Number((deployment['spec'] as Json)['progressDeadlineSeconds'] ?? 600);
  const progressed = updated === desired && pods.length === desired;
  const timedOut = !progressed && now.getTime() - Date.parse(since) > deadlineSeconds * 1000;
  const progressing = progressed
    ? { status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` }
    : timedOut
      ? { status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` }
      : { status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` };
  return {
    observedGeneration: deployment.metadata.generation ?? 1,
    replicas: pods.length,
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: ready,
    ...(desired > ready ? { unavailableReplicas: desired - ready } : {}),
    conditions: [
      available
        ? { type: 'Available', status: 'True', lastUpdateTime: since, lastTransitionTime: since,
            reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
        : { type: 'Available', status: 'False', lastUpdateTime: since, lastTransitionTime: since,
            reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
      { type: 'Progressing', lastUpdateTime: since, lastTransitionTime: since, ...progressing },
    ],
  };
}
