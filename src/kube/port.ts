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
 * What aegis-ir needs from the Kubernetes API, in the namespace it was pointed at. Implemented over
 * `@kubernetes/client-node` (loaded only when a command needs it) and exercised in tests against the
 * project's Kubernetes simulator over real HTTP.
 */
export interface KubePort {
  /** The namespace every call works in. */
  readonly namespace: string;
  /** The API server's URL, for messages. */
  readonly server: string;
  /** The kubeconfig context in use (the current one unless `--context` named another); null in-cluster. */
  readonly context: string | null;
  listPods(labelSelector: string): Promise<V1Pod[]>;
  /** The deployment, or null when it does not exist. */
  readDeployment(name: string): Promise<V1Deployment | null>;
  listReplicaSets(labelSelector?: string): Promise<V1ReplicaSet[]>;
  /** The names of the namespace's Deployments. */
  listDeploymentNames(): Promise<string[]>;
  /** Whether the namespace exists; null when the API will not say (no right to read namespaces). */
  namespaceExists(): Promise<boolean | null>;
  /** The namespace's events. */
  listEvents(): Promise<CoreV1Event[]>;
  /** The node, or null when it does not exist or may not be read (nodes are cluster-scoped). */
  readNode(name: string): Promise<V1Node | null>;
  /** Pod metrics from metrics.k8s.io, or null when the cluster serves no metrics API. */
  listPodMetrics(): Promise<PodMetric[] | null>;
  readPodLog(pod: string, options: LogOptions): Promise<string>;
  /** Events about nodes (they live in `default`), e.g. `SystemOOM`: `fieldSelector` narrows them. */
  listNodeEvents(fieldSelector: string): Promise<CoreV1Event[]>;
  /**
   * GET through the API server's pod proxy (`/api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy{path}`): the
   * answer as served, whatever its status, its body cut at `limitBytes`.
   */
  proxyGet(pod: string, port: number, path: string, limitBytes: number): Promise<ProxyResponse>;
  /**
   * Evicts a pod through the Eviction API, so PodDisruptionBudgets hold: `blocked` with the API server's
   * reason when a budget refuses (429).
   */
  evictPod(name: string, options: WriteOptions): Promise<{ evicted: true } | { evicted: false; blocked: string }>;
  exec(pod: string, container: string, command: string[]): Promise<ExecResult>;
  /** The ConfigMap, or null when it does not exist. */
  readConfigMap(name: string): Promise<V1ConfigMap | null>;
  /** ConfigMaps matching the label selector. */
  listConfigMaps(labelSelector: string): Promise<V1ConfigMap[]>;
  /** Creates a ConfigMap; false when one of that name already exists (409), which is how a name is claimed once. */
  createConfigMap(configMap: V1ConfigMap): Promise<boolean>;
  /**
   * Replaces a ConfigMap under optimistic concurrency: false when it changed since it was read (its
   * `metadata.resourceVersion` is stale: 409) or is gone (404).
   */
  replaceConfigMap(configMap: V1ConfigMap): Promise<boolean>;
  /** JSON merge patch of a ConfigMap's data; `dryRun` asks the API server to validate and store nothing. */
  patchConfigMap(name: string, data: Record<string, string>, options: WriteOptions): Promise<V1ConfigMap>;
  /** `kubectl rollout restart`: stamps the pod template with `kubectl.kubernetes.io/restartedAt`. */
  restartDeployment(name: string, at: string, options: WriteOptions): Promise<V1Deployment>;
  /** SelfSubjectAccessReview: may the current user do `verb` on `resource` (in this namespace)? */
  canI(access: AccessCheck): Promise<boolean>;
  /** The Lease, or null when it does not exist. */
  readLease(name: string): Promise<V1Lease | null>;
  /** Creates a Lease; false when one of that name already exists (409), which is how a lock is found held. */
  createLease(lease: V1Lease): Promise<boolean>;
  /** Replaces a Lease; false when it changed since it was read (409) or is gone (404). */
  replaceLease(lease: V1Lease): Promise<boolean>;
  /**
   * Deletes a Lease, only if it still has `resourceVersion` when given (so an expired lock is taken over once):
   * false when that precondition failed (409), true when it is gone.
   */
  deleteLease(name: string, resourceVersion?: string): Promise<boolean>;
  /** The namespace's HorizontalPodAutoscalers (autoscaling/v2). */
  listHorizontalPodAutoscalers(): Promise<V2HorizontalPodAutoscaler[]>;
  /** Patches a deployment; with `dryRun` the API server returns the result and stores nothing. */
  patchDeployment(name: string, patch: ObjectPatch, options: WriteOptions): Promise<V1Deployment>;
  /** Patches a HorizontalPodAutoscaler; with `dryRun` the API server returns the result and stores nothing. */
  patchHorizontalPodAutoscaler(name: string, patch: ObjectPatch, options: WriteOptions): Promise<V2HorizontalPodAutoscaler>;
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
