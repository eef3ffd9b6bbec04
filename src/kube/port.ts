import type {
  CoreV1Event,
  V1ConfigMap,
  V1Deployment,
  V1Lease,
  V1Node,
  V1Pod,
  V1ReplicaSet,
  V2HorizontalPodAutoscaler,
  PodMetric,
} from '@kubernetes/client-node';

/** The result of running a command in a container through the exec API. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface LogOptions {
  container?: string;
  tailLines: number;
  /** Upper bound on bytes read, so a chatty pod never fills memory. */
  limitBytes: number;
  previous?: boolean;
  /** Prefix each line with its RFC 3339 timestamp. */
  timestamps?: boolean;
}

/**
 * What aegis-ir needs from the Kubernetes API, in the namespace it was pointed at. Implemented over one
 * keep-alive connection pool per run with `@kubernetes/client-node`'s `KubeConfig` for credentials (loaded
 * only when a command needs it), and exercised in tests against the project's Kubernetes simulator over
 * real HTTPS.
 *
 * Every call takes an `AbortSignal` (a check's deadline, the run's `--timeout`, Ctrl-C): when it aborts,
 * the request stops and the call rejects with the deadline or cancellation. Names are validated as
 * DNS-1123 names before they reach a URL path. Failures arrive as one-line typed errors naming the API
 * server. Time fields of the objects returned are `Date`s, as client-node's own deserialiser makes them.
 */
export interface KubePort {
  /** The namespace every call works in. */
  readonly namespace: string;
  /** The API server's URL, for messages. */
  readonly server: string;
  /** The kubeconfig context in use (the current one unless `--context` named another); null in-cluster. */
  readonly context: string | null;
  /** TCP connections opened to the API server so far this run (one pool serves every call). */
  readonly connectionsOpened: number;
  /** Closes the idle pooled connections; the port stays usable (a later call opens new ones). */
  close(): void;
  listPods(labelSelector: string, signal: AbortSignal): Promise<V1Pod[]>;
  /** The deployment, or null when it does not exist. */
  readDeployment(name: string, signal: AbortSignal): Promise<V1Deployment | null>;
  listReplicaSets(labelSelector: string | undefined, signal: AbortSignal): Promise<V1ReplicaSet[]>;
  /** The names of the namespace's Deployments. */
  listDeploymentNames(signal: AbortSignal): Promise<string[]>;
  /** Whether the namespace exists; null when the API will not say (no right to read namespaces). */
  namespaceExists(signal: AbortSignal): Promise<boolean | null>;
  /** The namespace's events. */
  listEvents(signal: AbortSignal): Promise<CoreV1Event[]>;
  /** The node, or null when it does not exist or may not be read (nodes are cluster-scoped). */
  readNode(name: string, signal: AbortSignal): Promise<V1Node | null>;
  /** Events about nodes (they live in `default`), e.g. `SystemOOM`: `fieldSelector` narrows them. */
  listNodeEvents(fieldSelector: string, signal: AbortSignal): Promise<CoreV1Event[]>;
  /**
   * GET through the API server's pod proxy (`/api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy{path}`): the
   * answer as served, whatever its status, its body cut at `limitBytes`.
   */
  proxyGet(pod: string, port: number, path: string, limitBytes: number, signal: AbortSignal): Promise<ProxyResponse>;
  /**
   * Evicts a pod through the Eviction API, so PodDisruptionBudgets hold: `blocked` with the API server's
   * reason when a budget refuses (429).
   */
  evictPod(name: string, options: WriteOptions, signal: AbortSignal): Promise<{ evicted: true } | { evicted: false; blocked: string }>;
  /** Pod metrics from metrics.k8s.io, or null when the cluster serves no metrics API. */
  listPodMetrics(signal: AbortSignal): Promise<PodMetric[] | null>;
  readPodLog(pod: string, options: LogOptions, signal: AbortSignal): Promise<string>;
  exec(pod: string, container: string, command: string[], signal: AbortSignal): Promise<ExecResult>;
  /** The ConfigMap, or null when it does not exist. */
  readConfigMap(name: string, signal: AbortSignal): Promise<V1ConfigMap | null>;
  /** ConfigMaps matching the label selector. */
  listConfigMaps(labelSelector: string, signal: AbortSignal): Promise<V1ConfigMap[]>;
  /** Creates a ConfigMap; false when one of that name already exists (409), which is how a name is claimed once. */
  createConfigMap(configMap: V1ConfigMap, signal: AbortSignal): Promise<boolean>;
  /**
   * Replaces a ConfigMap under optimistic concurrency: false when it changed since it was read (its
   * `metadata.resourceVersion` is stale: 409) or is gone (404).
   */
  replaceConfigMap(configMap: V1ConfigMap, signal: AbortSignal): Promise<boolean>;
  /** JSON merge patch of a ConfigMap's data (a null value removes the key); `dryRun` asks the API server to validate and store nothing. */
  patchConfigMap(name: string, data: Record<string, string | null>, options: WriteOptions, signal: AbortSignal): Promise<V1ConfigMap>;
  /** `kubectl rollout restart`: stamps the pod template with `kubectl.kubernetes.io/restartedAt`. */
  restartDeployment(name: string, at: string, options: WriteOptions, signal: AbortSignal): Promise<V1Deployment>;
  /** SelfSubjectAccessReview: may the current user do `verb` on `resource` (in this namespace)? */
  canI(access: AccessCheck, signal: AbortSignal): Promise<boolean>;
  /** The Lease, or null when it does not exist. */
  readLease(name: string, signal: AbortSignal): Promise<V1Lease | null>;
  /** Creates a Lease; false when one of that name already exists (409), which is how a lock is found held. */
  createLease(lease: V1Lease, signal: AbortSignal): Promise<boolean>;
  /** Replaces a Lease; false when it changed since it was read (409) or is gone (404). */
  replaceLease(lease: V1Lease, signal: AbortSignal): Promise<boolean>;
  /**
   * Deletes a Lease, only if it still has `resourceVersion` when given (so an expired lock is taken over once):
   * false when that precondition failed (409), true when it is gone.
   */
  deleteLease(name: string, resourceVersion: string | undefined, signal: AbortSignal): Promise<boolean>;
  /** The namespace's HorizontalPodAutoscalers (autoscaling/v2). */
  listHorizontalPodAutoscalers(signal: AbortSignal): Promise<V2HorizontalPodAutoscaler[]>;
  /** Patches a deployment; with `dryRun` the API server returns the result and stores nothing. */
  patchDeployment(name: string, patch: ObjectPatch, options: WriteOptions, signal: AbortSignal): Promise<V1Deployment>;
  /** Patches a HorizontalPodAutoscaler; with `dryRun` the API server returns the result and stores nothing. */
  patchHorizontalPodAutoscaler(
    name: string,
    patch: ObjectPatch,
    options: WriteOptions,
    signal: AbortSignal,
  ): Promise<V2HorizontalPodAutoscaler>;
}

/** What the pod proxy answered. */
export interface ProxyResponse {
  status: number;
  contentType: string;
  body: Buffer;
  /** The body was longer than asked for and was cut. */
  truncated: boolean;
}

/** Where to find the cluster: the usual kubectl settings. */
export interface KubeTarget {
  /** One file (`--kubeconfig`), or the `KUBECONFIG` list merged as kubectl merges it; unset: `~/.kube/config`. */
  kubeconfig?: string | readonly string[];
  context?: string;
  namespace: string;
}

/** Options of a write: server-side dry run (`dryRun=All`) validates it and stores nothing. */
export interface WriteOptions {
  dryRun: boolean;
}

/** The question of a SelfSubjectAccessReview. */
export interface AccessCheck {
  verb: string;
  resource: string;
  /** `eviction` of `pods`, `log` of `pods`… */
  subresource?: string;
  group?: string;
  name?: string;
}

/** One RFC 6902 operation. */
export interface JsonPatchOperation {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

/**
 * A change to an object: a strategic merge patch (lists of named items, such as containers, merge by
 * name) or an RFC 6902 JSON patch (what `kubectl rollout undo` sends to swap a whole pod template).
 */
export type ObjectPatch = { type: 'strategic-merge'; body: object } | { type: 'json'; body: JsonPatchOperation[] };
