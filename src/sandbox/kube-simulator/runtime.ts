import type { Allocator } from '../heap-profile.js';
import type { ScenarioExecResult, ScenarioProxyResponse } from './scenario/schema.js';

/**
 * What a pod's containers "do" beyond their API object: logs, exec answers, proxied HTTP answers and resource usage.
 * Kept beside the object store (not in it) because none of it is part of a Kubernetes object.
 */

/** A log entry with times resolved to epoch milliseconds. */
export type LogSource =
  | { readonly kind: 'line'; readonly at: number; readonly line: string }
  | { readonly kind: 'repeat'; readonly from: number; readonly everyMs: number; readonly count: number;
      readonly lines: readonly string[] };

/** The logs of one container: the current instance and, when it restarted, the previous one. */
export interface ContainerLogs {
  readonly current: readonly LogSource[];
  readonly previous?: readonly LogSource[];
}

/** Per-container usage as metrics.k8s.io reports it. */
export interface ContainerUsage {
  readonly cpu: string;
  readonly memory: string;
}

/** How a container's working set moves (bytes): `perHour` from `fresh` when it starts. */
export interface ContainerMemory {
  readonly perHour: number;
  readonly fresh: number;
}

/** One allocator of a simulated heap, growing `growthPerHour` bytes from its value at `anchoredAt`. */
export interface HeapAllocator extends Omit<Allocator, 'inuseBytes'> {
  readonly inuseBytes: number;
  readonly growthPerHour: number;
}

/** A pod's `/debug/pprof/heap`: the allocators as they were at `anchoredAt` (epoch ms). */
export interface HeapRuntime {
  readonly port: number;
  readonly path: string;
  readonly allocators: readonly HeapAllocator[];
  readonly anchoredAt: number;
}

/** Everything the simulator knows about a pod besides its API object. */
export interface PodRuntime {
  readonly logs: ReadonlyMap<string, ContainerLogs>;
  readonly exec: Readonly<Record<string, ScenarioExecResult>>;
  /** The container whose commands `exec` scripts (the app's); the pod's other containers lack them. */
  readonly execContainer?: string;
  readonly proxy: readonly ScenarioProxyResponse[];
  readonly usage: ReadonlyMap<string, ContainerUsage>;
  readonly memory: ReadonlyMap<string, ContainerMemory>;
  readonly heap?: HeapRuntime;
}

/** A pod runtime with nothing in it, for pods created through the API. */
const EMPTY_RUNTIME: PodRuntime = { logs: new Map(), exec: {}, proxy: [], usage: new Map(), memory: new Map() };

/** The heap a container started afresh at `at` holds: what does not grow, and nothing yet of what leaks. */
export function freshHeap(heap: HeapRuntime, at: number): HeapRuntime {
  return { ...heap, anchoredAt: at, allocators: heap.allocators.map((a) => (a.growthPerHour > 0 ? { ...a, inuseBytes: 0 } : a)) };
}

/** The allocators' values at `at`, for generating the profile served then. */
export function heapAt(heap: HeapRuntime, at: number): Allocator[] {
  const hours = (at - heap.anchoredAt) / 3_600_000;
  return heap.allocators.map(({ growthPerHour, ...a }) => ({ ...a, inuseBytes: Math.max(a.objectBytes, Math.round(a.inuseBytes + growthPerHour * hours)) }));
}

/** Pod runtimes keyed by namespace and pod name. */
export class PodRuntimes {
  private readonly byPod = new Map<string, PodRuntime>();

  get(namespace: string, pod: string): PodRuntime {
    return this.byPod.get(`${namespace}/${pod}`) ?? EMPTY_RUNTIME;
  }

  set(namespace: string, pod: string, runtime: PodRuntime): void {
    this.byPod.set(`${namespace}/${pod}`, runtime);
  }

  delete(namespace: string, pod: string): void {
    this.byPod.delete(`${namespace}/${pod}`);
  }
}
