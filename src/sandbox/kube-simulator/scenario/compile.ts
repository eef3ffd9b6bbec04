import { type EventRecord, recordEvent } from '../events.js';
import { stablePodNames } from '../names.js';
import { parseQuantity } from '../../../kube/quantity.js';
import { CONFIG_MAP, DEPLOYMENT, HPA, LEASE, NAMESPACE, NODE, PDB } from '../resources.js';
import type { ContainerLogs, ContainerMemory, ContainerUsage, HeapRuntime, LogSource, PodRuntimes } from '../runtime.js';
import type { KubeObject, ObjectStore } from '../store.js';
import { parseDuration } from '../../../core/duration.js';
import { resolveTime, rfc3339 } from '../time.js';
import {
  CHANGE_CAUSE_ANNOTATION, type ContainerPlan, type ContainerState, NODE_NAMES, REVISION_ANNOTATION, createPod,
  createReplicaSet, refreshWorkloadStatus,
} from '../workloads.js';
import type {
  ScenarioContainer, ScenarioDeployment, ScenarioDocument, ScenarioEvent, ScenarioHeapProfile, ScenarioLogEntry,
  ScenarioPod, ScenarioRbacRule,
} from './schema.js';

/** What the server needs from a scenario beyond the objects it put in the store. */
export interface CompiledScenario {
  /** The scenario's namespace (the kubeconfig's default). */
  readonly namespace: string;
  readonly token?: string;
  readonly rbacDeny: readonly ScenarioRbacRule[];
  /** Images that crash-loop when the simulated controller starts them, keyed by `namespace/deployment`. */
  readonly crashingImages: ReadonlyMap<string, ReadonlySet<string>>;
  /** metrics.k8s.io answers 503 (metrics-server down). */
  readonly metricsUnavailable: boolean;
  /** Pods that turn ready a while after the scenario starts: name and delay in milliseconds. */
  readonly readyLater: ReadonlyArray<{ readonly pod: string; readonly afterMs: number }>;
}

/** Scenario times are resolved once, against the clock reading taken when the scenario is loaded. */
class Times {
  constructor(readonly now: Date) {}

  at(text: string): Date {
    const date = resolveTime(text, this.now);
    if (date === undefined) throw new Error(`unresolvable scenario time ${text}`); // the schema rejects these
    return date;
  }

  iso(text: string): string {
    return rfc3339(this.at(text));
  }
}

/**
 * Turns a validated scenario into Kubernetes objects in `store` (namespaces, deployments with one ReplicaSet per
 * revision, pods with their metrics, events, configmaps, HPAs, leases) and pod runtimes (logs, exec, proxy).
 */
export function compileScenario(document: ScenarioDocument, store: ObjectStore, runtimes: PodRuntimes,
  now: Date): CompiledScenario {
  const k = document.kubernetes;
  const times = new Times(now);
  for (const ns of new Set(['default', 'kube-system', k.namespace])) {
    store.create(NAMESPACE, { metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns },
      creationTimestamp: rfc3339(new Date(now.getTime() - 400 * 86_400_000)) },
    spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
  }
  for (const name of new Set([...NODE_NAMES, ...k.nodes.map((n) => n.name)])) {
    const n = k.nodes.find((candidate) => candidate.name === name);
    store.create(NODE, nodeObject(name, n?.ready ?? true, n?.reason, n?.message, now));
  }
  const crashingImages = new Map<string, ReadonlySet<string>>();
  const readyLater: Array<{ pod: string; afterMs: number }> = [];
  let podIndex = 0;
  for (const d of k.deployments) {
    crashingImages.set(`${k.namespace}/${d.name}`, new Set(d.crashingImages));
    const pods = k.pods.filter((p) => p.deployment === d.name);
    podIndex = compileDeployment(d, pods, k.namespace, store, runtimes, times, podIndex, readyLater);
  }
  for (const b of k.podDisruptionBudgets) {
    store.create(PDB, {
      metadata: { name: b.name, namespace: k.namespace, creationTimestamp: rfc3339(new Date(now.getTime() - 30 * 86_400_000)) },
      spec: { selector: { matchLabels: b.selector },
        ...(b.minAvailable === undefined ? {} : { minAvailable: b.minAvailable }),
        ...(b.maxUnavailable === undefined ? {} : { maxUnavailable: b.maxUnavailable }) },
    });
  }
  for (const cm of k.configmaps) {
    store.create(CONFIG_MAP, { metadata: { name: cm.name, namespace: k.namespace, labels: cm.labels,
      creationTimestamp: rfc3339(new Date(now.getTime() - 30 * 86_400_000)) }, data: cm.data });
  }
  for (const h of k.horizontalPodAutoscalers) {
    const target = k.deployments.find((d) => d.name === h.deployment);
    const replicas = target?.replicas ?? h.minReplicas;
    store.create(HPA, {
      metadata: { name: h.name, namespace: k.namespace, creationTimestamp: rfc3339(new Date(now.getTime() - 30 * 86_400_000)) },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: h.deployment },
        minReplicas: h.minReplicas, maxReplicas: h.maxReplicas,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization',
          averageUtilization: h.targetCPUUtilizationPercentage } } }],
      },
      status: {
        currentReplicas: replicas, desiredReplicas: replicas,
        currentMetrics: h.currentCPUUtilizationPercentage === undefined ? [] : [{ type: 'Resource',
          resource: { name: 'cpu', current: { averageUtilization: h.currentCPUUtilizationPercentage } } }],
        conditions: [
          { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale',
            message: 'recommended size matches current size', lastTransitionTime: rfc3339(now) },
          { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound',
            message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization ' +
              '(percentage of request)', lastTransitionTime: rfc3339(now) },
        ],
      },
    });
  }
  for (const l of k.leases) {
    const acquired = times.at(l.acquiredAt).toISOString().replace('Z', '000Z');
    store.create(LEASE, { metadata: { name: l.name, namespace: k.namespace },
      spec: { holderIdentity: l.holder, leaseDurationSeconds: l.durationSeconds, acquireTime: acquired,
        renewTime: acquired } });
  }
  refreshWorkloadStatus(store, k.namespace, now);
  return {
    namespace: k.namespace,
    ...(k.token === undefined ? {} : { token: k.token }),
    rbacDeny: k.rbac.deny,
    crashingImages,
    metricsUnavailable: k.metricsServer === 'unavailable',
    readyLater,
  };
}

/** A Node as the kubelet reports it: Ready, or NotReady with the node controller's words. */
function nodeObject(name: string, ready: boolean, reason: string | undefined, message: string | undefined, now: Date): Record<string, unknown> {
  const since = rfc3339(new Date(now.getTime() - 90 * 86_400_000));
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' }, creationTimestamp: since },
    spec: {},
    status: {
      conditions: [ready
        ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status',
            lastHeartbeatTime: rfc3339(now), lastTransitionTime: since }
        : { type: 'Ready', status: 'Unknown', reason: reason ?? 'NodeStatusUnknown',
            message: message ?? 'Kubelet stopped posting node status.', lastHeartbeatTime: since,
            lastTransitionTime: since }],
      nodeInfo: { kubeletVersion: 'v1.32.3', containerRuntimeVersion: 'containerd://1.7.27', osImage: 'Amazon Linux 2023' },
    },
  };
}

function podTemplate(d: ScenarioDeployment, labels: Record<string, string>, image: string): Record<string, unknown> {
  const container = (c: ScenarioDeployment['container'], img: string): Record<string, unknown> => ({
    name: c.name,
    image: img,
    ...(c.ports.length === 0 ? {} : { ports: c.ports.map((port) => ({ containerPort: port, protocol: 'TCP' })) }),
    ...(Object.keys(c.env).length === 0 ? {} : { env: Object.entries(c.env).map(([name, value]) => ({ name, value })) }),
    resources: c.resources,
    ...(c.ports[0] === undefined ? {} : { readinessProbe: { httpGet: { path: '/healthz', port: c.ports[0],
      scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 } }),
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  });
  const app = container(d.container, image);
  const sidecars = d.sidecars.map((s) => container(s, s.image));
  const init = d.initContainers.map((c) => ({ ...container(c, c.image), ...(c.restartPolicy ? { restartPolicy: c.restartPolicy } : {}) }));
  return {
    metadata: { labels, ...(d.podAnnotations === undefined ? {} : { annotations: d.podAnnotations }) },
    spec: {
      ...(init.length ? { initContainers: init } : {}),
      containers: d.sidecarsFirst ? [...sidecars, app] : [app, ...sidecars],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: d.name,
      serviceAccount: d.name,
      securityContext: {},
      schedulerName: 'default-scheduler',
    },
  };
}

function compileDeployment(d: ScenarioDeployment, pods: ScenarioPod[], namespace: string, store: ObjectStore,
  runtimes: PodRuntimes, times: Times, firstPodIndex: number,
  readyLater: Array<{ pod: string; afterMs: number }>): number {
  const labels = d.labels ?? { app: d.name };
  const revisions = [...d.revisions].sort((a, b) => a.revision - b.revision);
  const current = revisions[revisions.length - 1];
  const first = revisions[0];
  if (current === undefined || first === undefined) throw new Error(`deployment ${d.name} has no revisions`);
  const changeCause = (cause: string | undefined): Record<string, string> =>
    (cause === undefined ? {} : { [CHANGE_CAUSE_ANNOTATION]: cause });
  const deployment = store.create(DEPLOYMENT, {
    metadata: {
      name: d.name, namespace, labels, creationTimestamp: times.iso(first.createdAt),
      annotations: { [REVISION_ANNOTATION]: String(current.revision), ...changeCause(current.changeCause) },
    },
    spec: {
      replicas: d.replicas,
      selector: { matchLabels: labels },
      template: podTemplate(d, labels, current.image),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {},
  });
  let podIndex = firstPodIndex;
  for (const revision of revisions) {
    const owned = pods.filter((p) => p.revision === revision.revision);
    const replicas = owned.reduce((sum, p) => sum + p.count, 0);
    const createdAt = times.at(revision.createdAt);
    const rs = createReplicaSet(store, { ...deployment, spec: { ...(deployment['spec'] as object),
      template: podTemplate(d, labels, revision.image) } },
    { revision: revision.revision, replicas, createdAt, annotations: changeCause(revision.changeCause) });
    if (revision === current && times.now.getTime() - createdAt.getTime() < 3_600_000) {
      // Events live an hour in a real cluster, so only a recent rollout still shows its scaling event.
      recordEvent(store, deployment, { type: 'Normal', reason: 'ScalingReplicaSet', count: 1, firstSeen: createdAt,
        lastSeen: createdAt, component: 'deployment-controller',
        message: `Scaled up replica set ${rs.metadata.name} to ${replicas}` });
    }
    let rsIndex = 0;
    const names = stablePodNames(rs.metadata.name, owned.reduce((n, p) => n + p.count, 0));
    for (const p of owned) {
      for (let copy = 0; copy < p.count; copy += 1) {
        const name = names[rsIndex] ?? '';
        rsIndex += 1;
        const startTime = times.at(p.startTime ?? revision.createdAt);
        const node = p.nodeName ?? NODE_NAMES[podIndex % NODE_NAMES.length] ?? NODE_NAMES[0];
        const pod = createPod(store, {
          replicaSet: rs, name, phase: p.unschedulable === undefined ? p.phase : 'Pending', ready: p.ready, startTime,
          ...(p.readySince === undefined ? {} : { readySince: times.at(p.readySince) }),
          nodeName: p.unschedulable === undefined ? node : undefined,
          podIP: p.podIP ?? `10.244.${(podIndex % NODE_NAMES.length) + 1}.${17 + podIndex * 3}`,
          containers: containerNames(d).map((c) => containerPlan(c, findContainer(d, p, c), p, startTime, times)),
          // An init status without a name describes the first init container.
          initContainers: d.initContainers.map((c) => initContainerPlan(c,
            p.initContainers.find((s) => (s.name ?? d.initContainers[0]?.name) === c.name), p, startTime, times)),
          ...(p.reason === undefined ? {} : { reason: p.reason }),
          ...(p.message === undefined ? {} : { message: p.message }),
          ...(p.unschedulable === undefined ? {} : { unschedulable: p.unschedulable }),
        });
        podIndex += 1;
        runtimes.set(namespace, name, {
          logs: new Map(containerNames(d).map((c) => [c, containerLogs(findContainer(d, p, c), times)])),
          exec: p.exec,
          execContainer: d.container.name,
          proxy: p.proxy,
          usage: new Map(containerNames(d).flatMap((c): [string, ContainerUsage][] => {
            const usage = findContainer(d, p, c)?.usage;
            return usage === undefined ? [] : [[c, usage]];
          })),
          memory: new Map(containerNames(d).flatMap((c): [string, ContainerMemory][] => {
            const memory = findContainer(d, p, c)?.memory;
            return memory === undefined ? [] : [[c, { perHour: bytes(memory.perHour), fresh: bytes(memory.fresh) }]];
          })),
          ...(p.heapProfile === undefined ? {} : { heap: heapRuntime(p.heapProfile, times.now) }),
        });
        if (p.readyAfter !== undefined && !p.ready) readyLater.push({ pod: name, afterMs: parseDuration(p.readyAfter) ?? 0 });
        for (const e of p.events) {
          recordEvent(store, pod, eventRecord(e, pod, times, 'kubelet', node));
        }
      }
    }
  }
  for (const e of d.events) recordEvent(store, deployment, eventRecord(e, deployment, times, 'deployment-controller'));
  return podIndex;
}

function bytes(quantity: string): number {
  return parseQuantity(quantity) ?? 0; // the schema checked the quantity
}

function heapRuntime(h: ScenarioHeapProfile, now: Date): HeapRuntime {
  return {
    port: h.port,
    path: h.path,
    anchoredAt: now.getTime(),
    allocators: h.allocators.map((a) => ({ stack: a.stack, inuseBytes: bytes(a.inuse), growthPerHour: bytes(a.growthPerHour),
      objectBytes: bytes(a.objectSize), allocFactor: a.allocFactor })),
  };
}

function containerNames(d: ScenarioDeployment): string[] {
  return [d.container.name, ...d.sidecars.map((s) => s.name)];
}

/** The scenario's description of a container; an entry without a name describes the main container. */
function findContainer(d: ScenarioDeployment, p: ScenarioPod, name: string): ScenarioContainer | undefined {
  return p.containers.find((c) => (c.name ?? d.container.name) === name);
}

function containerPlan(name: string, c: ScenarioContainer | undefined, p: ScenarioPod, startTime: Date,
  times: Times): ContainerPlan {
  const lastState: ContainerState = c?.lastState === undefined ? {} : { terminated: {
    exitCode: c.lastState.terminated.exitCode,
    reason: c.lastState.terminated.reason,
    ...(c.lastState.terminated.message === undefined ? {} : { message: c.lastState.terminated.message }),
    ...(c.lastState.terminated.signal === undefined ? {} : { signal: c.lastState.terminated.signal }),
    startedAt: times.iso(c.lastState.terminated.startedAt),
    finishedAt: times.iso(c.lastState.terminated.finishedAt),
  } };
  const runningSince = (lastState['terminated']?.['finishedAt'] as string | undefined) ?? rfc3339(startTime);
  const state = c?.state === undefined ? defaultState(p.phase, runningSince) : resolveState(c.state, runningSince, times);
  return {
    name,
    ready: c?.ready ?? (p.ready && state['running'] !== undefined),
    restartCount: c?.restartCount ?? 0,
    state,
    lastState,
    ...(c?.usage === undefined ? {} : { usage: c.usage }),
  };
}

/** An init container: completed before the app started (a native sidecar: running beside it), unless the scenario says. */
function initContainerPlan(c: ScenarioDeployment['initContainers'][number], status: ScenarioContainer | undefined,
  p: ScenarioPod, startTime: Date, times: Times): ContainerPlan {
  if (status !== undefined) return containerPlan(c.name, status, p, startTime, times);
  const at = rfc3339(startTime);
  return c.restartPolicy === 'Always'
    ? { name: c.name, ready: true, restartCount: 0, state: { running: { startedAt: at } }, lastState: {} }
    : { name: c.name, ready: true, restartCount: 0, lastState: {},
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: at, finishedAt: at } } };
}

function defaultState(phase: ScenarioPod['phase'], since: string): ContainerState {
  switch (phase) {
    case 'Running': return { running: { startedAt: since } };
    case 'Succeeded': return { terminated: { exitCode: 0, reason: 'Completed', startedAt: since, finishedAt: since } };
    case 'Failed': return { terminated: { exitCode: 1, reason: 'Error', startedAt: since, finishedAt: since } };
    default: return { waiting: { reason: 'ContainerCreating' } };
  }
}

function resolveState(state: NonNullable<ScenarioContainer['state']>, runningSince: string,
  times: Times): ContainerState {
  if (state.running !== undefined) {
    return { running: { startedAt: state.running.startedAt === undefined ? runningSince
      : times.iso(state.running.startedAt) } };
  }
  if (state.waiting !== undefined) return { waiting: { ...state.waiting } };
  const t = state.terminated;
  if (t === undefined) throw new Error('container state without running, waiting or terminated'); // schema-checked
  return { terminated: { ...t, startedAt: times.iso(t.startedAt), finishedAt: times.iso(t.finishedAt) } };
}

function containerLogs(c: ScenarioContainer | undefined, times: Times): ContainerLogs {
  const resolve = (entries: readonly ScenarioLogEntry[]): LogSource[] => entries.map((e) => (e.at !== undefined
    ? { kind: 'line', at: times.at(e.at).getTime(), line: String(e.line) }
    : {
        kind: 'repeat', from: times.at(e.from ?? 'now').getTime(), everyMs: parseDuration(e.every ?? '1s') ?? 1000,
        count: e.repeat ?? 1, lines: typeof e.line === 'string' ? [e.line] : e.line,
      }));
  if (c?.logs === undefined) return { current: [] };
  return { current: resolve(c.logs.current),
    ...(c.logs.previous === undefined ? {} : { previous: resolve(c.logs.previous) }) };
}

function eventRecord(e: ScenarioEvent, involved: KubeObject, times: Times, component: string,
  host?: string): EventRecord {
  const lastSeen = times.at(e.lastSeen);
  return {
    type: e.type, reason: e.reason, count: e.count,
    message: e.message.replaceAll('{name}', involved.metadata.name)
      .replaceAll('{namespace}', involved.metadata.namespace ?? '').replaceAll('{uid}', involved.metadata.uid),
    firstSeen: e.firstSeen === undefined ? lastSeen : times.at(e.firstSeen),
    lastSeen,
    component: e.source ?? component,
    ...(host === undefined ? {} : { host }),
    ...(e.container === undefined ? {} : { container: e.container }),
  };
}
