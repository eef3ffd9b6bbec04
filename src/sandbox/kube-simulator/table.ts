import type { ResourceType } from './resources.js';
import type { KubeObject } from './store.js';
import { humanDuration } from './time.js';
import { isPodReady } from './workloads.js';

/*
 * Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): the columns and cell values the
 * apiserver's printers produce, so `kubectl get` output is indistinguishable from a real cluster's.
 */

interface Column {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date';
  readonly priority?: number;
  readonly format?: 'name';
  readonly description: string;
}

type Json = Record<string, unknown>;
type Cell = string | number;

interface Printer {
  readonly columns: readonly Column[];
  readonly cells: (object: KubeObject, age: (timestamp: unknown) => string) => Cell[];
}

const name: Column = { name: 'Name', type: 'string', format: 'name',
  description: 'Name must be unique within a namespace.' };
const age: Column = { name: 'Age', type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' };
const wide = (column: string, description: string, type: Column['type'] = 'string'): Column =>
  ({ name: column, type, priority: 1, description });
const col = (column: string, description: string, type: Column['type'] = 'string'): Column =>
  ({ name: column, type, description });

function field(object: unknown, ...path: string[]): unknown {
  let current = object;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Json)[part];
  }
  return current;
}

const num = (value: unknown): number => (typeof value === 'number' ? value : 0);

interface ContainerStatus {
  restartCount?: number;
  ready?: boolean;
  state?: { waiting?: { reason?: string }; running?: Json; terminated?: { reason?: string; signal?: number;
    exitCode?: number } };
  lastState?: { terminated?: { finishedAt?: string } };
}

/** Pod READY/STATUS/RESTARTS exactly as kubectl's pod printer derives them. */
function podCells(pod: KubeObject, since: (timestamp: unknown) => string): Cell[] {
  const status = (pod['status'] ?? {}) as { phase?: string; reason?: string; containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[]; podIP?: string };
  const containers = (field(pod, 'spec', 'containers') ?? []) as unknown[];
  let reason = status.reason ?? status.phase ?? '';
  let restarts = 0;
  let ready = 0;
  let hasRunning = false;
  let lastRestart: string | undefined;
  for (const c of [...(status.containerStatuses ?? [])].reverse()) {
    restarts += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished !== undefined && (lastRestart === undefined || finished > lastRestart)) lastRestart = finished;
    const terminated = c.state?.terminated;
    if (c.state?.waiting?.reason !== undefined && c.state.waiting.reason !== '') reason = c.state.waiting.reason;
    else if (terminated?.reason !== undefined && terminated.reason !== '') reason = terminated.reason;
    else if (terminated !== undefined) {
      reason = terminated.signal !== undefined ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
    } else if (c.ready === true && c.state?.running !== undefined) {
      hasRunning = true;
      ready += 1;
    }
  }
  if (reason === 'Completed' && hasRunning) reason = isPodReady(pod) ? 'Running' : 'NotReady';
  // An init container that has not completed decides the status, as kubectl prints it (`Init:CrashLoopBackOff`).
  const inits = status.initContainerStatuses ?? [];
  const initSpecs = (field(pod, 'spec', 'initContainers') ?? []) as { name: string; restartPolicy?: string }[];
  for (const [i, c] of inits.entries()) {
    restarts += c.restartCount ?? 0;
    const native = initSpecs[i]?.restartPolicy === 'Always';
    if (c.state?.terminated?.exitCode === 0 || (native && c.state?.running !== undefined)) continue;
    const waiting = c.state?.waiting?.reason;
    reason = waiting !== undefined && waiting !== '' && waiting !== 'PodInitializing' ? `Init:${waiting}`
      : c.state?.terminated !== undefined ? `Init:${c.state.terminated.reason ?? 'Error'}` : `Init:${i}/${inits.length}`;
    break;
  }
  if (pod.metadata['deletionTimestamp'] !== undefined) reason = 'Terminating';
  const restartText = lastRestart === undefined ? String(restarts) : `${restarts} (${since(lastRestart)} ago)`;
  return [pod.metadata.name, `${ready}/${containers.length}`, reason, restartText, since(pod.metadata.creationTimestamp),
    status.podIP ?? '<none>', String(field(pod, 'spec', 'nodeName') ?? '<none>'), '<none>', '<none>'];
}

function workloadWideCells(object: KubeObject): Cell[] {
  const containers = (field(object, 'spec', 'template', 'spec', 'containers') ?? []) as { name: string;
    image: string }[];
  const selector = (field(object, 'spec', 'selector', 'matchLabels') ?? {}) as Record<string, string>;
  return [containers.map((c) => c.name).join(','), containers.map((c) => c.image).join(','),
    Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',')];
}

const workloadWideColumns = [
  wide('Containers', 'Names of each container in the template.'),
  wide('Images', 'Images referenced by each container in the template.'),
  wide('Selector', 'Label selector for pods.'),
];

const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [name, col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'The number of times the containers in this pod have been restarted and when the last ' +
        'container in this pod has restarted.'), age,
      wide('IP', 'IP address allocated to the pod.'), wide('Node', 'Name of the node where the pod is scheduled.'),
      wide('Nominated Node', 'Name of the node where the pod is nominated.'),
      wide('Readiness Gates', 'Readiness gates of the pod.')],
    cells: podCells,
  },
  Deployment: {
    columns: [name, col('Ready', 'Number of the pod with ready state'),
      col('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired ' +
        'template spec.', 'integer'),
      col('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this ' +
        'deployment.', 'integer'), age, ...workloadWideColumns],
    cells: (d, since) => [d.metadata.name,
      `${num(field(d, 'status', 'readyReplicas'))}/${num(field(d, 'spec', 'replicas'))}`,
      num(field(d, 'status', 'updatedReplicas')), num(field(d, 'status', 'availableReplicas')),
      since(d.metadata.creationTimestamp), ...workloadWideCells(d)],
  },
  ReplicaSet: {
    columns: [name, col('Desired', 'Number of desired pods.', 'integer'),
      col('Current', 'Number of actual running pods.', 'integer'),
      col('Ready', 'Number of pods ready.', 'integer'), age, ...workloadWideColumns],
    cells: (rs, since) => [rs.metadata.name, num(field(rs, 'spec', 'replicas')), num(field(rs, 'status', 'replicas')),
      num(field(rs, 'status', 'readyReplicas')), since(rs.metadata.creationTimestamp), ...workloadWideCells(rs)],
  },
  Event: {
    columns: [col('Last Seen', 'Time when this Event was last seen.'), col('Type', 'Type of this event.'),
      col('Reason', 'Reason why this event was generated.'), col('Object', 'The object this Event is about.'),
      wide('Subobject', 'The subobject this Event is about.'), wide('Source', 'The component reporting this event.'),
      col('Message', 'A human-readable description of the status of this operation.'),
      wide('First Seen', 'Time when this Event was first seen.'),
      wide('Count', 'The number of times this event has occurred.', 'integer'),
      wide('Name', 'Name must be unique within a namespace.')],
    cells: (e, since) => [since(e['lastTimestamp']), String(e['type'] ?? ''), String(e['reason'] ?? ''),
      `${String(field(e, 'involvedObject', 'kind') ?? '').toLowerCase()}/${String(field(e, 'involvedObject', 'name') ?? '')}`,
      String(field(e, 'involvedObject', 'fieldPath') ?? ''),
      [field(e, 'source', 'component'), field(e, 'source', 'host')].filter((s) => s !== undefined).join(', '),
      String(e['message'] ?? '').trim(), since(e['firstTimestamp']), num(e['count']) || 1, e.metadata.name],
  },
  ConfigMap: {
    columns: [name, col('Data', 'Number of data entries.', 'integer'), age],
    cells: (cm, since) => [cm.metadata.name, Object.keys((cm['data'] ?? {}) as Json).length,
      since(cm.metadata.creationTimestamp)],
  },
  HorizontalPodAutoscaler: {
    columns: [name, col('Reference', 'The target of the autoscaler.'),
      col('Targets', 'The current and target metric values.'),
      col('MinPods', 'Lower limit for the number of pods.'), col('MaxPods', 'Upper limit for the number of pods.',
        'integer'), col('Replicas', 'Current number of replicas.', 'integer'), age],
    cells: (h, since) => {
      const target = field(h, 'spec', 'metrics', '0', 'resource', 'target', 'averageUtilization');
      const current = field(h, 'status', 'currentMetrics', '0', 'resource', 'current', 'averageUtilization');
      return [h.metadata.name,
        `${String(field(h, 'spec', 'scaleTargetRef', 'kind'))}/${String(field(h, 'spec', 'scaleTargetRef', 'name'))}`,
        `cpu: ${current === undefined ? '<unknown>' : `${String(current)}%`}/${String(target)}%`,
        String(field(h, 'spec', 'minReplicas') ?? 1), num(field(h, 'spec', 'maxReplicas')),
        num(field(h, 'status', 'currentReplicas')), since(h.metadata.creationTimestamp)];
    },
  },
  Lease: {
    columns: [name, col('Holder', 'The holder of the lease.'), age],
    cells: (l, since) => [l.metadata.name, String(field(l, 'spec', 'holderIdentity') ?? ''),
      since(l.metadata.creationTimestamp)],
  },
  Namespace: {
    columns: [name, col('Status', 'The status of the namespace'), age],
    cells: (ns, since) => [ns.metadata.name, String(field(ns, 'status', 'phase') ?? 'Active'),
      since(ns.metadata.creationTimestamp)],
  },
};

const GENERIC: Printer = {
  columns: [name, age],
  cells: (o, since) => [o.metadata.name, since(o.metadata.creationTimestamp)],
};

/** How much of each object a Table row carries (`includeObject`). */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Renders objects of one type as a `meta.k8s.io/v1` Table. */
export function toTable(type: ResourceType, objects: readonly KubeObject[], now: Date, include: IncludeObject,
  listMetadata: Json): Json {
  const printer = PRINTERS[type.kind] ?? GENERIC;
  const since = (timestamp: unknown): string => (typeof timestamp === 'string'
    ? humanDuration(now.getTime() - Date.parse(timestamp))
    : '<unknown>');
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMetadata,
    columnDefinitions: printer.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '',
      description: c.description, priority: c.priority ?? 0 })),
    rows: objects.map((o) => ({
      cells: printer.cells(o, since),
      ...(include === 'None' ? {} : {
        object: include === 'Object' ? o : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1',
          metadata: o.metadata },
      }),
    })),
  };
}
