import type { ServerResponse } from 'node:http';
import type { ResourceType } from './resources.js';
import type { Selector } from './selectors.js';
import type { KubeObject, ObjectStore } from './store.js';

/** What a watch request asked for. */
export interface WatchRequest {
  readonly type: ResourceType;
  readonly namespace?: string;
  readonly selectors: readonly Selector[];
  /** `resourceVersion` from the query: absent or `0` means "start with the current state as ADDED events". */
  readonly resourceVersion: string | null;
  readonly timeoutSeconds?: number;
  /** Renders each event's object (a Table row when the client asked for tables). */
  readonly render: (object: KubeObject) => unknown;
}

/**
 * Unread bytes a watcher may leave behind before it is dropped, as the apiserver drops a watcher that stops reading
 * rather than hold its events without bound; clients watch again.
 */
const MAX_UNREAD_BYTES = 8 * 1024 * 1024;

/**
 * Streams watch events (`{"type":…,"object":…}` per line) until the client goes away, stops reading, or
 * `timeoutSeconds` passes.
 * The store keeps no history, so a watch from an older resourceVersion sees changes from now on: enough for
 * `kubectl rollout status`, `kubectl get -w` and informers, which list first.
 */
export function serveWatch(response: ServerResponse, store: ObjectStore, watch: WatchRequest): void {
  response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  response.flushHeaders();
  const matches = (o: KubeObject): boolean =>
    (watch.namespace === undefined || o.metadata.namespace === watch.namespace) && watch.selectors.every((s) => s(o));
  const send = (type: string, object: KubeObject): void => {
    if (response.writableLength > MAX_UNREAD_BYTES) response.destroy();
    else response.write(`${JSON.stringify({ type, object: watch.render(object) })}\n`);
  };
  if (watch.resourceVersion === null || watch.resourceVersion === '0' || watch.resourceVersion === '') {
    for (const object of store.list(watch.type, watch.namespace)) if (matches(object)) send('ADDED', object);
  }
  const unsubscribe = store.subscribe((event) => {
    if (event.resource === watch.type && matches(event.object)) send(event.type, event.object);
  });
  const timer = watch.timeoutSeconds === undefined ? undefined
    : setTimeout(() => response.end(), watch.timeoutSeconds * 1000);
  const stop = (): void => {
    unsubscribe();
    if (timer !== undefined) clearTimeout(timer);
  };
  // Emitted however the watch ends: timeout, client gone, or dropped above.
  response.on('close', stop);
}
