import type { V1Deployment, CoreV1Event, V1Pod, V1ReplicaSet, PodMetric } from '@kubernetes/client-node';

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
  listPods(labelSelector: string): Promise<V1Pod[]>;
  /** The deployment, or null when it does not exist. */
  readDeployment(name: string): Promise<V1Deployment | null>;
  listReplicaSets(labelSelector?: string): Promise<V1ReplicaSet[]>;
  /** Pod metrics from metrics.k8s.io, or null when the cluster serves no metrics API. */
  listPodMetrics(): Promise<PodMetric[] | null>;
  listEvents(fieldSelector?: string): Promise<CoreV1Event[]>;
  readPodLog(pod: string, options: LogOptions): Promise<string>;
  exec(pod: string, container: string, command: string[]): Promise<ExecResult>;
}

/** Where to find the cluster: the usual kubectl settings. */
export interface KubeTarget {
  kubeconfig?: string;
  context?: string;
  namespace: string;
}
