import { formatCores, parseQuantity } from '../../kube/quantity.js';
import { recordEvent } from './events.js';
import { randomSuffix } from './names.js';
import { DEPLOYMENT, POD, POD_METRICS, REPLICA_SET, type ResourceType } from './resources.js';
import { type ContainerLogs, type ContainerUsage, type LogSource, type PodRuntime, type PodRuntimes, freshHeap } from './runtime.js';
import type { KubeObject, ObjectStore, StoreEvent } from './store.js';
import { type Clock, rfc3339 } from './time.js';
import {
  CHANGE_CAUSE_ANNOTATION, type ContainerPlan, NODE_NAMES, REVISION_ANNOTATION, createPod, createReplicaSet,
  isControlledBy, isPodReady, refreshWorkloadStatus, revisionOf, sameTemplate, specReplicas, templateOf,
  templatesEqual,
} from './workloads.js';

/** What the deployment controller needs. */
export interface DeploymentControllerOptions {
  readonly store: ObjectStore;
  readonly runtimes: PodRuntimes;
  readonly clock: Clock;
  /** Images that crash-loop when started, keyed by `namespace/deployment`. */
  readonly crashingImages: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Deployment annotations the controller keeps to itself rather than copying onto ReplicaSets (as upstream). */
const NOT_COPIED = new Set([REVISION_ANNOTATION, 'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas', 'deployment.kubernetes.io/max-replicas',
  'kubectl.kubernetes.io/last-applied-configuration']);

type Json = Record<string, unknown>;

/**
 * A synchronous stand-in for the deployment, replicaset and garbage-collector controllers, reacting to store
 * changes before the API response is sent, so a client sees the outcome of its write at once:
 * - a Deployment's template change (rollout restart, set image, rollout undo) makes the matching ReplicaSet current
 *   — the existing one with that template, renumbered to the next revision, or a new one — scales it to the desired
 *   count with fresh pods and scales the others to zero;
 * - a `spec.replicas` change scales pods (old ReplicaSets give up pods first);
 * - a deleted pod is replaced when its ReplicaSet still wants it; a deleted Deployment takes its ReplicaSets and pods.
 * New pods run and become ready, unless the scenario lists their image as crashing, in which case they crash-loop.
 * Their logs, exec answers and usage are borrowed from a scenario pod in the same condition.
 *
 * Returns the function that stops the controller.
 */
export function startDeploymentController(options: DeploymentControllerOptions): () => void {
  // The controller's own writes come back as events too; reactions are idempotent (a ReplicaSet already at its
  // desired count, a deployment whose template did not change), so they settle without acting twice.
  return options.store.subscribe((event) => react(options, event));
}

function react(options: DeploymentControllerOptions, event: StoreEvent): void {
  const { store, clock } = options;
  const namespace = event.object.metadata.namespace ?? '';
  if (event.resource === DEPLOYMENT) {
    const deployment = event.object;
    if (event.type === 'DELETED') {
      for (const rs of ownedBy(store, REPLICA_SET, deployment)) {
        store.delete(REPLICA_SET, namespace, rs.metadata.name);
        scalePods(options, deployment, rs, 0);
      }
      return;
    }
    const previous = event.previous;
    if (previous === undefined || !templatesEqual(templateOf(previous), templateOf(deployment))) {
      rollout(options, deployment);
    } else if (specReplicas(previous) !== specReplicas(deployment)) {
      scale(options, deployment);
    }
  } else if (event.resource === POD && event.type === 'DELETED') {
    forgetPod(options, namespace, event.object.metadata.name);
    const rsName = event.object.metadata.ownerReferences?.find((r) => r.kind === 'ReplicaSet')?.name;
    const rs = rsName === undefined ? undefined : store.get(REPLICA_SET, namespace, rsName);
    const deploymentName = rs?.metadata.ownerReferences?.find((r) => r.kind === 'Deployment')?.name;
    const deployment = deploymentName === undefined ? undefined : store.get(DEPLOYMENT, namespace, deploymentName);
    if (rs === undefined || deployment === undefined) return;
    scalePods(options, deployment, rs, specReplicas(rs));
  } else {
    return;
  }
  refreshWorkloadStatus(store, namespace, clock());
}

function ownedBy(store: ObjectStore, type: ResourceType, owner: KubeObject): KubeObject[] {
  return store.list(type, owner.metadata.namespace).filter((o) => isControlledBy(o, owner));
}

function rollout(options: DeploymentControllerOptions, deployment: KubeObject): void {
  const { store, clock } = options;
  const replicaSets = ownedBy(store, REPLICA_SET, deployment);
  const nextRevision = Math.max(0, ...replicaSets.map(revisionOf)) + 1;
  const copied = Object.fromEntries(Object.entries(deployment.metadata.annotations ?? {})
    .filter(([k]) => !NOT_COPIED.has(k)));
  const replicas = specReplicas(deployment);
  const existing = replicaSets.find((rs) => sameTemplate(rs, deployment));
  let current: KubeObject;
  if (existing === undefined) {
    current = createReplicaSet(store, deployment, { revision: nextRevision, replicas, createdAt: clock(),
      annotations: copied });
  } else {
    const annotations: Record<string, string> = { ...existing.metadata.annotations, ...copied, [REVISION_ANNOTATION]: String(nextRevision),
      'deployment.kubernetes.io/revision-history': String(revisionOf(existing)) };
    if (copied[CHANGE_CAUSE_ANNOTATION] === undefined) delete annotations[CHANGE_CAUSE_ANNOTATION];
    current = store.update(REPLICA_SET, { ...existing, metadata: { ...existing.metadata, annotations },
      spec: { ...(existing['spec'] as Json), replicas } });
  }
  store.update(DEPLOYMENT, { ...deployment, metadata: { ...deployment.metadata, annotations: {
    ...deployment.metadata.annotations, [REVISION_ANNOTATION]: String(nextRevision) } } });
  // New pods start before the old ones go, as a rolling update surges: they take their logs, exec
  // answers and usage from a running pod, and when every pod was old that pod must still exist.
  scalePods(options, deployment, current, replicas);
  scalingEvent(options, deployment, `Scaled up replica set ${current.metadata.name} to ${replicas}`);
  for (const old of replicaSets.filter((rs) => rs.metadata.uid !== current.metadata.uid)) {
    const had = ownedBy(store, POD, old).length;
    if (specReplicas(old) !== 0) store.update(REPLICA_SET, { ...old, spec: { ...(old['spec'] as Json), replicas: 0 } });
    scalePods(options, deployment, old, 0);
    if (had > 0) scalingEvent(options, deployment, `Scaled down replica set ${old.metadata.name} to 0 from ${had}`);
  }
}

function scale(options: DeploymentControllerOptions, deployment: KubeObject): void {
  const { store } = options;
  const replicaSets = ownedBy(store, REPLICA_SET, deployment);
  const current = replicaSets.find((rs) => sameTemplate(rs, deployment));
  if (current === undefined) {
    rollout(options, deployment);
    return;
  }
  const demand = cpuDemand(options, deployment);
  // Old ReplicaSets (a stuck rollout) give up pods first; growth goes to the current one.
  let surplus = replicaSets.reduce((sum, rs) => sum + specReplicas(rs), 0) - specReplicas(deployment);
  const order = [...replicaSets.filter((rs) => rs !== current), current];
  for (const rs of order) {
    const before = specReplicas(rs);
    const after = rs === current ? Math.max(0, before - surplus) : Math.max(0, before - Math.max(0, surplus));
    surplus -= before - after;
    if (after === before) continue;
    store.update(REPLICA_SET, { ...rs, spec: { ...(rs['spec'] as Json), replicas: after } });
    scalePods(options, deployment, rs, after);
    scalingEvent(options, deployment, `Scaled ${after > before ? 'up' : 'down'} replica set ${rs.metadata.name} ` +
      `to ${after}${after < before ? ` from ${before}` : ''}`);
  }
  spreadCpu(options, deployment, demand);
}

/** CPU the deployment's ready pods use together: the load its traffic puts on it, in cores. */
function cpuDemand(options: DeploymentControllerOptions, deployment: KubeObject): number {
  return readyMetrics(options, deployment).reduce(
    (sum, metrics) => sum + metricsContainers(metrics).reduce((n, c) => n + (parseQuantity(c.usage?.cpu) ?? 0), 0),
    0,
  );
}

/**
 * Spreads the same traffic over the pods a scale left: each ready pod's main container now uses an
 * equal share of `demand`. This is what lets scaling out relieve CPU saturation in a drill.
 */
function spreadCpu(options: DeploymentControllerOptions, deployment: KubeObject, demand: number): void {
  const metrics = readyMetrics(options, deployment);
  if (demand <= 0 || metrics.length === 0) return;
  const share = formatCores(demand / metrics.length);
  for (const m of metrics) {
    const [main, ...rest] = metricsContainers(m);
    if (main === undefined) continue;
    options.store.update(POD_METRICS, { ...m, containers: [{ ...main, usage: { ...main.usage, cpu: share } }, ...rest] });
  }
}

interface MetricsContainer {
  name: string;
  usage?: { cpu?: string; memory?: string };
}

function metricsContainers(metrics: KubeObject): MetricsContainer[] {
  return (metrics['containers'] ?? []) as MetricsContainer[];
}

function readyMetrics(options: DeploymentControllerOptions, deployment: KubeObject): KubeObject[] {
  const { store } = options;
  return ownedBy(store, REPLICA_SET, deployment)
    .flatMap((rs) => ownedBy(store, POD, rs))
    .filter(isPodReady)
    .flatMap((pod) => store.get(POD_METRICS, pod.metadata.namespace, pod.metadata.name) ?? []);
}

function scalingEvent(options: DeploymentControllerOptions, deployment: KubeObject, message: string): void {
  const now = options.clock();
  recordEvent(options.store, deployment, { type: 'Normal', reason: 'ScalingReplicaSet', message, count: 1,
    firstSeen: now, lastSeen: now, component: 'deployment-controller' });
}

/** Makes a ReplicaSet own exactly `count` pods: unready pods go first when shrinking. */
function scalePods(options: DeploymentControllerOptions, deployment: KubeObject, rs: KubeObject,
  count: number): void {
  const { store } = options;
  const namespace = rs.metadata.namespace ?? '';
  const pods = ownedBy(store, POD, rs).sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)));
  for (const pod of pods.slice(0, Math.max(0, pods.length - count))) {
    store.delete(POD, namespace, pod.metadata.name);
    forgetPod(options, namespace, pod.metadata.name);
  }
  for (let i = pods.length; i < count; i += 1) startPod(options, deployment, rs);
}

/** Drops what outlives a deleted pod's object: its runtime and its metrics. */
function forgetPod(options: DeploymentControllerOptions, namespace: string, name: string): void {
  options.runtimes.delete(namespace, name);
  if (options.store.get(POD_METRICS, namespace, name) !== undefined) {
    options.store.delete(POD_METRICS, namespace, name);
  }
}

let podSequence = 0;

function startPod(options: DeploymentControllerOptions, deployment: KubeObject, rs: KubeObject): void {
  const { store, runtimes, clock } = options;
  const namespace = rs.metadata.namespace ?? '';
  const template = templateOf(rs);
  const podSpec = template['spec'] as Json;
  const containers = (podSpec['containers'] ?? []) as { name: string; image: string }[];
  const initContainers = (podSpec['initContainers'] ?? []) as { name: string; restartPolicy?: string }[];
  // The app container, as kubectl would pick it: sidecars may be listed first.
  const annotated = ((template['metadata'] as Json | undefined)?.['annotations'] as Record<string, string> | undefined)
    ?.['kubectl.kubernetes.io/default-container'];
  const main = containers.find((c) => c.name === annotated) ?? containers.find((c) => c.name === deployment.metadata.name)
    ?? containers[0];
  if (main === undefined) return;
  const crashing = options.crashingImages.get(`${namespace}/${deployment.metadata.name}`)?.has(main.image) ?? false;
  const now = clock();
  const donor = findDonor(store, deployment, main.image, crashing);
  const donorMain = donor === undefined ? undefined : containerStatus(donor, main.name);
  const donorCrash = donorMain?.lastState?.terminated;
  const donorRuntime = donor === undefined ? undefined : runtimes.get(namespace, donor.metadata.name);
  const plans = containers.map((c): ContainerPlan => {
    // A container started afresh holds its fresh working set, not what its donor has grown to.
    const fresh = donorRuntime?.memory.get(c.name)?.fresh;
    const borrowed = donorRuntime?.usage.get(c.name);
    const usage = borrowed === undefined || fresh === undefined ? borrowed : { ...borrowed, memory: `${Math.ceil(fresh / 1024)}Ki` };
    const base = { name: c.name, ...(usage === undefined ? {} : { usage }) };
    if (!crashing || c !== main) {
      return { ...base, ready: true, restartCount: 0, state: { running: { startedAt: rfc3339(now) } }, lastState: {} };
    }
    return { ...base, ready: false, restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: donorCrash?.exitCode ?? 1, reason: donorCrash?.reason ?? 'Error',
        startedAt: rfc3339(new Date(now.getTime() - 3000)), finishedAt: rfc3339(new Date(now.getTime() - 1000)) } } };
  });
  podSequence += 1;
  const name = `${rs.metadata.name}-${randomSuffix()}`;
  const node = NODE_NAMES[podSequence % NODE_NAMES.length] ?? NODE_NAMES[0];
  const initPlans = initContainers.map((c): ContainerPlan => ({ name: c.name, ready: true, restartCount: 0, lastState: {},
    state: c.restartPolicy === 'Always' ? { running: { startedAt: rfc3339(now) } }
      : { terminated: { exitCode: 0, reason: 'Completed', startedAt: rfc3339(now), finishedAt: rfc3339(now) } } }));
  const pod = createPod(store, { replicaSet: rs, name, phase: 'Running', ready: !crashing, startTime: now,
    nodeName: node, podIP: `10.244.${(podSequence % NODE_NAMES.length) + 1}.${100 + (podSequence % 150)}`,
    containers: plans, initContainers: initPlans });
  if (donor !== undefined && donorRuntime !== undefined) {
    const runtime = shiftedRuntime(donorRuntime, anchor(pod, main.name) - anchor(donor, main.name));
    runtimes.set(namespace, name, { ...runtime,
      usage: new Map(plans.flatMap((p): [string, ContainerUsage][] => (p.usage === undefined ? [] : [[p.name, p.usage]]))),
      ...(runtime.heap === undefined ? {} : { heap: freshHeap(runtime.heap, now.getTime()) }) });
  }
}

interface StatusLike {
  name: string;
  state?: { running?: { startedAt?: string } };
  lastState?: { terminated?: { exitCode?: number; reason?: string; finishedAt?: string } };
}

function containerStatus(pod: KubeObject, container: string): StatusLike | undefined {
  const statuses = ((pod['status'] as Json | undefined)?.['containerStatuses'] ?? []) as StatusLike[];
  return statuses.find((s) => s.name === container);
}

/**
 * The moment a pod's logs are anchored to: the end of the last crash for a crash-looping container, else when the
 * running container started. Borrowed logs are shifted by the difference, so a pod started now shows only the first
 * lines of its donor's history, and more appear as the clock moves.
 */
function anchor(pod: KubeObject, container: string): number {
  const status = containerStatus(pod, container);
  const at = status?.lastState?.terminated?.finishedAt ?? status?.state?.running?.startedAt ??
    pod.metadata.creationTimestamp;
  return Date.parse(at);
}

/** A pod of the same deployment in the same condition (crash-looping or ready), preferring the same image. */
function findDonor(store: ObjectStore, deployment: KubeObject, image: string, crashing: boolean): KubeObject | undefined {
  const candidates = store.list(REPLICA_SET, deployment.metadata.namespace)
    .filter((rs) => isControlledBy(rs, deployment))
    .flatMap((rs) => ownedBy(store, POD, rs))
    .filter((p) => isPodReady(p) !== crashing);
  const imageOf = (p: KubeObject): string | undefined =>
    (((p['spec'] as Json)['containers'] ?? []) as { image: string }[])[0]?.image;
  return candidates.find((p) => imageOf(p) === image) ?? candidates[0];
}

function shiftedRuntime(runtime: PodRuntime, shiftMs: number): PodRuntime {
  const shift = (sources: readonly LogSource[]): LogSource[] => sources.map((s) => (s.kind === 'line'
    ? { ...s, at: s.at + shiftMs }
    : { ...s, from: s.from + shiftMs }));
  const logs = new Map<string, ContainerLogs>([...runtime.logs].map(([c, l]) => [c, {
    current: shift(l.current), ...(l.previous === undefined ? {} : { previous: shift(l.previous) }) }]));
  return { ...runtime, logs };
}
