import { goHeapProfile } from '../heap-profile.js';
import { type PodRuntime, heapAt } from './runtime.js';
import { ApiError } from './status.js';
import type { KubeObject } from './store.js';

/** A proxied HTTP answer. */
export interface ProxyAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * Answers `…/pods/{name}[:port]/proxy/{path}` from the scenario; a heap profile endpoint serves a Go heap profile of
 * the pod's allocators as they are at that moment. A port nobody serves (or a pod without a running
 * container) is a 503 "connection refused" Status, as the apiserver reports a failed dial; a served port with an
 * unknown path is the application's own 404, Go's `404 page not found`.
 */
export function proxyAnswer(pod: KubeObject, runtime: PodRuntime, port: number | undefined, path: string,
  now: Date): ProxyAnswer {
  const spec = pod['spec'] as { containers?: { ports?: { containerPort: number }[] }[] };
  const target = port ?? spec.containers?.[0]?.ports?.[0]?.containerPort ?? 80;
  const status = pod['status'] as { podIP?: string; containerStatuses?: { state?: { running?: unknown } }[] };
  const running = (status.containerStatuses ?? []).some((c) => c.state?.running !== undefined);
  const onPort = runtime.proxy.filter((p) => p.port === target);
  const heap = runtime.heap?.port === target ? runtime.heap : undefined;
  if (!running || (onPort.length === 0 && heap === undefined)) {
    throw new ApiError(503, 'ServiceUnavailable', `error trying to reach service: dial tcp ${status.podIP ?? ''}:` +
      `${target}: connect: connection refused`);
  }
  if (heap !== undefined && heap.path === path) {
    return { status: 200, contentType: 'application/octet-stream',
      body: goHeapProfile(heapAt(heap, now.getTime()), now) };
  }
  const hit = onPort.find((p) => p.path === path);
  if (hit === undefined) {
    return { status: 404, contentType: 'text/plain; charset=utf-8', body: Buffer.from('404 page not found\n') };
  }
  return { status: hit.status, contentType: hit.contentType,
    body: hit.bodyBase64 !== undefined ? Buffer.from(hit.bodyBase64, 'base64') : Buffer.from(hit.body ?? '') };
}
