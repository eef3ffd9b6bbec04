import { SEVERITIES } from '../../../core/severity.js';
import * as z from 'zod';
import { aiAppSectionSchema, statusPagesSectionSchema } from '../../statuspage-simulator/schema.js';
import { databaseSectionSchema } from '../../postgres.js';
import { prometheusSectionSchema } from '../../prometheus-simulator/schema.js';
import { parseDuration } from '../../../core/duration.js';
import { resolveTime } from '../time.js';

/*
 * The scenario file format. Every object is strict so that a misspelt key is reported rather than silently ignored,
 * and the document is one object of sections (`kubernetes`, `prometheus`, `database`) so that a new service can be
 * added beside the others without changing what exists.
 */

const EPOCH = new Date(0);

/** `now`, a negative offset (`-5m`, `-1h30m`, `-3d`) or an ISO-8601 timestamp; resolved when the scenario loads. */
const time = z.string().refine((t) => resolveTime(t, EPOCH) !== undefined, {
  error: 'expected a time: "now", a negative offset such as "-5m", "-90s", "-3d", or an ISO-8601 timestamp',
});

/** `2s`, `500ms`, `1h30m`. */
const duration = z.string().refine((t) => parseDuration(t) !== undefined, {
  error: 'expected a duration such as "500ms", "2s", "5m", "1h30m"',
});

/** A Kubernetes quantity (`250m`, `512Mi`, `1`). */
const quantity = z.union([z.number().nonnegative(), z.string()]).transform(String).refine(
  (q) => /^\d+(\.\d+)?(n|u|m|k|M|G|T|Ki|Mi|Gi|Ti|e\d+)?$/.test(q),
  { error: 'expected a Kubernetes quantity such as "250m", "1", "512Mi"' },
);

const labels = z.record(z.string(), z.string());
const resourceList = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() });
const resources = z.strictObject({ requests: resourceList.optional(), limits: resourceList.optional() });

const terminated = z.strictObject({
  reason: z.string(),
  exitCode: z.number().int(),
  startedAt: time,
  finishedAt: time,
  message: z.string().optional(),
  signal: z.number().int().optional(),
});

const containerState = z.strictObject({
  running: z.strictObject({ startedAt: time.optional() }).optional(),
  waiting: z.strictObject({ reason: z.string(), message: z.string().optional() }).optional(),
  terminated: terminated.optional(),
}).refine((s) => Object.keys(s).length === 1, { error: 'expected exactly one of running, waiting, terminated' });

/**
 * One log entry: a single line (`{at, line}`), or a generator (`{repeat, every, from, line}`) that stands for
 * `repeat` lines `every` apart starting at `from`, so a scenario can hold hundreds of lines in one entry. A generator's
 * `line` may be a list, cycled through; `{n}` in a line becomes the line's 1-based sequence number.
 */
const logEntry = z.strictObject({
  at: time.optional(),
  repeat: z.number().int().min(1).max(1_000_000).optional(),
  every: duration.optional(),
  from: time.optional(),
  line: z.union([z.string(), z.array(z.string()).min(1)]),
}).superRefine((e, ctx) => {
  const single = e.at !== undefined;
  const generator = e.repeat !== undefined || e.every !== undefined || e.from !== undefined;
  if (single === generator) {
    ctx.addIssue({ code: 'custom', message: 'expected either {at, line} or {repeat, every, from, line}' });
  } else if (generator && (e.repeat === undefined || e.every === undefined || e.from === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'a generator needs all of repeat, every and from' });
  } else if (single && typeof e.line !== 'string') {
    ctx.addIssue({ code: 'custom', path: ['line'], message: 'a single entry takes one line (a string)' });
  }
});

const logs = z.strictObject({
  current: z.array(logEntry).default([]),
  /** Logs of the previous container instance; absent means `--previous` answers 400 like a real cluster. */
  previous: z.array(logEntry).optional(),
});

const containerStatus = z.strictObject({
  /** Defaults to the deployment's main container. */
  name: z.string().optional(),
  /** Defaults to the pod's `ready`. */
  ready: z.boolean().optional(),
  restartCount: z.number().int().nonnegative().default(0),
  /** Defaults to running since the pod started (or since `lastState` finished). */
  state: containerState.optional(),
  lastState: z.strictObject({ terminated }).optional(),
  /** metrics.k8s.io usage; absent means no metrics for this container. */
  usage: z.strictObject({ cpu: quantity, memory: quantity }).optional(),
  /**
   * How the working set moves, for the memory series the sandbox's Prometheus serves: it grows `perHour` up to
   * `usage.memory` now, and a container started afresh (a restart, a replacement pod) begins at `fresh`.
   */
  memory: z.strictObject({ perHour: quantity.default('0'), fresh: quantity }).optional(),
  logs: logs.optional(),
});

const execResult = z.strictObject({
  exitCode: z.number().int().min(0).max(255).default(0),
  stdout: z.string().default(''),
  stderr: z.string().default(''),
  /** How long the command "runs" before answering. */
  delay: duration.optional(),
});

const proxyResponse = z.strictObject({
  port: z.number().int().min(1).max(65535),
  path: z.string().startsWith('/'),
  status: z.number().int().min(100).max(599).default(200),
  contentType: z.string().default('text/plain; charset=utf-8'),
  body: z.string().optional(),
  bodyBase64: z.string().optional(),
}).refine((p) => (p.body === undefined) !== (p.bodyBase64 === undefined), {
  error: 'expected exactly one of body, bodyBase64',
});

/** A frame of an allocating stack, leaf first; `inlined` frames share their caller's location. */
const allocatorFrame = z.strictObject({
  function: z.string().min(1),
  file: z.string().min(1),
  line: z.number().int().min(1),
  inlined: z.boolean().default(false),
});

/** Live heap held by one call stack of a Go heap profile. */
const allocator = z.strictObject({
  stack: z.array(allocatorFrame).min(1),
  /** inuse_space now. */
  inuse: quantity,
  /** How fast it grows (a leak); a container started afresh holds only what it grew since. */
  growthPerHour: quantity.default('0'),
  objectSize: quantity.default('64Ki'),
  /** alloc_space as a multiple of inuse_space. */
  allocFactor: z.number().min(1).default(4),
});

/** A Go service's `/debug/pprof/heap`: gzipped profile.proto generated from the allocators on every request. */
const heapProfile = z.strictObject({
  port: z.number().int().min(1).max(65535).default(6060),
  path: z.string().startsWith('/').default('/debug/pprof/heap'),
  allocators: z.array(allocator).min(1),
});

/** An event about the object it is nested in (a pod or a deployment). */
const event = z.strictObject({
  type: z.enum(['Normal', 'Warning']).default('Normal'),
  reason: z.string(),
  /** `{name}`, `{namespace}` and `{uid}` are replaced by the involved object's. */
  message: z.string(),
  count: z.number().int().min(1).default(1),
  firstSeen: time.optional(),
  lastSeen: time.default('now'),
  source: z.string().optional(),
  /** The container the event is about, for `involvedObject.fieldPath`. */
  container: z.string().optional(),
});

const revision = z.strictObject({
  revision: z.number().int().min(1),
  image: z.string(),
  changeCause: z.string().optional(),
  createdAt: time,
});

const containerSpec = z.strictObject({
  name: z.string(),
  /** Sidecars only; the main container's image comes from each revision. */
  image: z.string().optional(),
  resources: resources.default({}),
  ports: z.array(z.number().int().min(1).max(65535)).default([]),
  env: z.record(z.string(), z.string()).default({}),
});

/** An init container; `restartPolicy: Always` makes it a native sidecar that runs beside the app. */
const initContainerSpec = containerSpec.required({ image: true }).extend({ restartPolicy: z.literal('Always').optional() });

const deployment = z.strictObject({
  name: z.string(),
  replicas: z.number().int().nonnegative(),
  /** Selector and pod labels; defaults to `{app: <name>}`. */
  labels: labels.optional(),
  /** Pod template annotations, e.g. `kubectl.kubernetes.io/default-container` as service meshes set it. */
  podAnnotations: labels.optional(),
  container: containerSpec,
  sidecars: z.array(containerSpec.required({ image: true })).default([]),
  /** List the sidecars before the app container, as injected meshes (Istio, Linkerd, Vault agent) do. */
  sidecarsFirst: z.boolean().default(false),
  initContainers: z.array(initContainerSpec).default([]),
  /** Revision history, each one becoming a ReplicaSet; the highest is the deployment's current template. */
  revisions: z.array(revision).min(1),
  /** Images whose pods crash-loop when the simulated controller starts them (rollouts, scaling, restarts). */
  crashingImages: z.array(z.string()).default([]),
  events: z.array(event).default([]),
});

const pod = z.strictObject({
  deployment: z.string(),
  /** The revision (hence ReplicaSet) owning the pod. */
  revision: z.number().int().min(1),
  /** How many identical pods this entry stands for. */
  count: z.number().int().min(1).default(1),
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']).default('Running'),
  ready: z.boolean().default(true),
  /** Defaults to the revision's createdAt. */
  startTime: time.optional(),
  /** When the pod's Ready condition last changed (it turned unready then, or ready); defaults to the start time. */
  readySince: time.optional(),
  nodeName: z.string().optional(),
  podIP: z.string().optional(),
  containers: z.array(containerStatus).default([]),
  /** Init container statuses; unlisted ones completed (native sidecars: running). */
  initContainers: z.array(containerStatus).default([]),
  /** The pod's status reason and message, e.g. `Evicted` with the kubelet's words (phase Failed). */
  reason: z.string().optional(),
  message: z.string().optional(),
  /** The scheduler's message: the pod is Pending, unscheduled (PodScheduled=False, Unschedulable). */
  unschedulable: z.string().optional(),
  events: z.array(event).default([]),
  /** Results of `kubectl exec`, keyed by the command line joined with spaces (`./aegis health`). */
  exec: z.record(z.string(), execResult).default({}),
  /** Answers of the apiserver's pod proxy. */
  proxy: z.array(proxyResponse).default([]),
  /** The heap profile the pod proxy serves (its replacements serve it too, from a fresh heap). */
  heapProfile: heapProfile.optional(),
  /** A pod that is not ready now becomes ready this long after the scenario starts (a container warming up). */
  readyAfter: duration.optional(),
});

const rbacRule = z.strictObject({
  verb: z.string(),
  resource: z.string(),
  group: z.string().default(''),
  subresource: z.string().default(''),
});

const hpa = z.strictObject({
  name: z.string(),
  deployment: z.string(),
  minReplicas: z.number().int().min(1).default(1),
  maxReplicas: z.number().int().min(1),
  targetCPUUtilizationPercentage: z.number().int().min(1).default(80),
  currentCPUUtilizationPercentage: z.number().int().nonnegative().optional(),
});

const lease = z.strictObject({
  name: z.string(),
  holder: z.string(),
  acquiredAt: time,
  durationSeconds: z.number().int().min(1).default(60),
});

/** A node whose Ready condition differs from the default (every node Ready). */
const node = z.strictObject({
  name: z.string(),
  ready: z.boolean().default(true),
  reason: z.string().optional(),
  message: z.string().optional(),
});

const kubernetes = z.strictObject({
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).default('aegis'),
  /** `unavailable`: metrics.k8s.io answers 503, as it does while metrics-server is down. */
  metricsServer: z.enum(['available', 'unavailable']).default('available'),
  nodes: z.array(node).default([]),
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token: z.string().min(1).optional(),
  rbac: z.strictObject({ deny: z.array(rbacRule).default([]) }).default({ deny: [] }),
  deployments: z.array(deployment).default([]),
  pods: z.array(pod).default([]),
  configmaps: z.array(z.strictObject({ name: z.string(), labels: labels.optional(),
    data: z.record(z.string(), z.string()).default({}) })).default([]),
  horizontalPodAutoscalers: z.array(hpa).default([]),
  /** PodDisruptionBudgets, which the Eviction API enforces. */
  podDisruptionBudgets: z.array(z.strictObject({
    name: z.string(),
    selector: labels,
    minAvailable: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+%$/)]).optional(),
    maxUnavailable: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+%$/)]).optional(),
  }).refine((b) => (b.minAvailable === undefined) !== (b.maxUnavailable === undefined), {
    error: 'expected exactly one of minAvailable, maxUnavailable',
  })).default([]),
  leases: z.array(lease).default([]),
}).superRefine((k, ctx) => {
  // Cross references are checked here so they are reported with the same file/path/value wording as shape errors.
  k.pods.forEach((p, i) => {
    const owner = k.deployments.find((d) => d.name === p.deployment);
    if (owner === undefined) {
      ctx.addIssue({ code: 'custom', path: ['pods', i, 'deployment'], input: p.deployment,
        message: `expected the name of a deployment in this scenario (${k.deployments.map((d) => d.name).join(', ')})` });
    } else if (!owner.revisions.some((r) => r.revision === p.revision)) {
      ctx.addIssue({ code: 'custom', path: ['pods', i, 'revision'], input: p.revision,
        message: `expected one of deployment ${owner.name}'s revisions (${owner.revisions.map((r) => r.revision).join(', ')})` });
    }
  });
  k.horizontalPodAutoscalers.forEach((h, i) => {
    if (!k.deployments.some((d) => d.name === h.deployment)) {
      ctx.addIssue({ code: 'custom', path: ['horizontalPodAutoscalers', i, 'deployment'], input: h.deployment,
        message: 'expected the name of a deployment in this scenario' });
    }
  });
});

/** The scenario document schema. */
export const scenarioSchema = z.strictObject({
  /** One line shown by `aegis-ir drill --list`. */
  description: z.string(),
  /** What `aegis-ir drill` must conclude; a different verdict means the drill (or aegis-ir) is wrong. */
  expect: z.strictObject({ severity: z.enum(SEVERITIES).nullable() }).optional(),
  kubernetes,
  /** Request metrics, component health and findings served by the sandbox's Prometheus. */
  prometheus: prometheusSectionSchema.optional(),
  /** A real PostgreSQL the drill starts, with the given share of its slots held idle. */
  database: databaseSectionSchema.optional(),
  /** The AI providers' public status pages, served by the sandbox's Statuspage simulator. */
  statusPages: statusPagesSectionSchema.optional(),
  /** How the app uses its AI providers, so a change of its AI settings can end the incident. */
  aiApp: aiAppSectionSchema.optional(),
});

/** A validated scenario document (times still relative; they are resolved at compile time). */
export type ScenarioDocument = z.infer<typeof scenarioSchema>;
/** A deployment section of a scenario. */
export type ScenarioDeployment = ScenarioDocument['kubernetes']['deployments'][number];
/** A pod section of a scenario. */
export type ScenarioPod = ScenarioDocument['kubernetes']['pods'][number];
/** One container of a pod section. */
export type ScenarioContainer = ScenarioPod['containers'][number];
/** One log entry (single line or generator). */
export type ScenarioLogEntry = z.infer<typeof logEntry>;
/** An exec result. */
export type ScenarioExecResult = z.infer<typeof execResult>;
/** A pod proxy response. */
export type ScenarioProxyResponse = z.infer<typeof proxyResponse>;
/** A pod's heap profile endpoint. */
export type ScenarioHeapProfile = z.infer<typeof heapProfile>;
/** A nested event. */
export type ScenarioEvent = z.infer<typeof event>;
/** An RBAC deny rule. */
export type ScenarioRbacRule = z.infer<typeof rbacRule>;
