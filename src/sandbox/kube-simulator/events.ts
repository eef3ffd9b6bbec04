import { EVENT } from './resources.js';
import type { KubeObject, ObjectStore } from './store.js';
import { rfc3339 } from './time.js';

/** An event to record about an object. */
export interface EventRecord {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly firstSeen: Date;
  readonly lastSeen: Date;
  /** Reporting component (`kubelet`, `deployment-controller`). */
  readonly component: string;
  /** Node the component runs on, for kubelet events. */
  readonly host?: string;
  /** Container the event concerns, rendered as `involvedObject.fieldPath`. */
  readonly container?: string;
}

let sequence = 0;

/** Stores a core/v1 Event about `involved`, named `<object>.<hex nanoseconds>` like the event recorder names them. */
export function recordEvent(store: ObjectStore, involved: KubeObject, event: EventRecord): KubeObject {
  sequence += 1;
  const nanos = BigInt(event.lastSeen.getTime()) * 1_000_000n + BigInt(sequence);
  return store.create(EVENT, {
    metadata: {
      name: `${involved.metadata.name}.${nanos.toString(16)}`,
      namespace: involved.metadata.namespace,
      creationTimestamp: rfc3339(event.firstSeen),
    },
    involvedObject: {
      kind: involved.kind,
      namespace: involved.metadata.namespace,
      name: involved.metadata.name,
      uid: involved.metadata.uid,
      apiVersion: involved.apiVersion,
      resourceVersion: involved.metadata.resourceVersion,
      ...(event.container === undefined ? {} : { fieldPath: `spec.containers{${event.container}}` }),
    },
    reason: event.reason,
    message: event.message,
    source: { component: event.component, ...(event.host === undefined ? {} : { host: event.host }) },
    firstTimestamp: rfc3339(event.firstSeen),
    lastTimestamp: rfc3339(event.lastSeen),
    count: event.count,
    type: event.type,
    eventTime: null,
    reportingComponent: event.component,
    reportingInstance: event.host ?? '',
  });
}
