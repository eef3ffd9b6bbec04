import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { randomSuffix } from './names.js';
import { type ResourceType, apiVersionOf } from './resources.js';
import { alreadyExists, conflict, notFound } from './status.js';
import { type Clock, rfc3339 } from './time.js';

/** An owner reference as found in `metadata.ownerReferences`. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The parts of `metav1.ObjectMeta` the simulator reads and maintains. */
export interface ObjectMeta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [field: string]: unknown;
}

/** Any Kubernetes object held by the store: plain JSON exactly as served. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** An object as a client submits it: server-assigned metadata may be missing. */
export interface SubmittedObject {
  apiVersion?: string;
  kind?: string;
  metadata?: Partial<ObjectMeta>;
  [field: string]: unknown;
}

/** A change to the store, delivered synchronously to subscribers after the write. */
export interface StoreEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly resource: ResourceType;
  /** The object after the change (for DELETED, as it was when deleted). */
  readonly object: KubeObject;
  /** The object before the change, for MODIFIED. */
  readonly previous?: KubeObject;
}

/** Options shared by the writing operations. */
export interface WriteOptions {
  /** Validate and compute the result, but store nothing and notify nobody (`dryRun=All`). */
  readonly dryRun?: boolean;
}

/** Kinds whose spec changes are counted in `metadata.generation`, as the apiserver does for workload objects. */
const GENERATION_KINDS = new Set(['Deployment', 'ReplicaSet', 'HorizontalPodAutoscaler']);

/**
 * In-memory object store keyed by group/resource, namespace and name, maintaining what the apiserver maintains: uid,
 * a cluster-wide monotonically increasing resourceVersion, creationTimestamp and generation. Every read returns a copy,
 * so callers can never mutate stored state behind the store's back.
 */
export class ObjectStore {
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private readonly pending: StoreEvent[] = [];
  private delivering = false;
  private revision = 0;

  constructor(private readonly clock: Clock) {}

  /** The latest resourceVersion handed out, as list responses report it. */
  get resourceVersion(): string {
    return String(this.revision);
  }

  /**
   * Registers a listener called after every committed (non-dry-run) write, before the write returns; returns the
   * unsubscribe function. This is the hook controllers use to react to changes, such as a Deployment's template
   * changing. Writes made by listeners are delivered after the current event, so order is preserved.
   */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A copy of the object, or undefined. */
  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.bucket(type).get(key(type, namespace, name));
    return found === undefined ? undefined : structuredClone(found);
  }

  /** A copy of the object, or a NotFound ApiError. */
  require(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const found = this.get(type, namespace, name);
    if (found === undefined) throw notFound(type, name);
    return found;
  }

  /** Copies of the objects of a type, in one namespace or (undefined) all, ordered by namespace then name. */
  list(type: ResourceType, namespace?: string): KubeObject[] {
    const prefix = namespace === undefined ? '' : `${namespace}/`;
    return [...this.bucket(type).entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => structuredClone(o));
  }

  /** Creates an object, assigning server metadata; AlreadyExists if the name is taken. */
  create(type: ResourceType, submitted: SubmittedObject, options: WriteOptions = {}): KubeObject {
    const meta = submitted.metadata ?? {};
    const namespace = type.namespaced ? meta.namespace : undefined;
    const name = meta.name !== undefined && meta.name !== '' ? meta.name : this.generateName(type, meta);
    const bucket = this.bucket(type);
    if (bucket.has(key(type, namespace, name))) throw alreadyExists(type, name);
    const object = typed(type, submitted, {
      name,
      uid: randomUUID(),
      resourceVersion: '',
      creationTimestamp: meta.creationTimestamp ?? rfc3339(this.clock()),
      ...(GENERATION_KINDS.has(type.kind) ? { generation: 1 } : {}),
    });
    if (namespace === undefined) delete object.metadata.namespace;
    return this.commit(type, object, undefined, options);
  }

  /**
   * Replaces an object. A submitted resourceVersion must match the stored one (optimistic concurrency → Conflict);
   * uid and creationTimestamp are kept, and generation is bumped when the spec changed.
   */
  update(type: ResourceType, submitted: SubmittedObject, options: WriteOptions = {}): KubeObject {
    const meta = submitted.metadata ?? {};
    const name = meta.name ?? '';
    const current = this.require(type, type.namespaced ? meta.namespace : undefined, name);
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '' &&
        meta.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(type, name);
    }
    const object = typed(type, submitted, {
      name,
      uid: current.metadata.uid,
      resourceVersion: current.metadata.resourceVersion,
      creationTimestamp: current.metadata.creationTimestamp,
    });
    if (type.namespaced) object.metadata.namespace = current.metadata.namespace ?? '';
    if (current.metadata.generation !== undefined) {
      const specChanged = !isDeepStrictEqual(object['spec'], current['spec']);
      object.metadata.generation = current.metadata.generation + (specChanged ? 1 : 0);
    }
    if (isDeepStrictEqual(object, current)) return current;
    return this.commit(type, object, current, options);
  }

  /** Deletes an object and returns it as it was; NotFound if absent. */
  delete(type: ResourceType, namespace: string | undefined, name: string, options: WriteOptions = {}): KubeObject {
    const current = this.require(type, namespace, name);
    if (options.dryRun !== true) {
      this.bucket(type).delete(key(type, namespace, name));
      this.emit({ type: 'DELETED', resource: type, object: current });
    }
    return current;
  }

  private commit(type: ResourceType, object: KubeObject, previous: KubeObject | undefined,
    options: WriteOptions): KubeObject {
    if (options.dryRun === true) return object;
    this.revision += 1;
    object.metadata.resourceVersion = String(this.revision);
    this.bucket(type).set(key(type, object.metadata.namespace, object.metadata.name), object);
    const copy = structuredClone(object);
    this.emit(previous === undefined
      ? { type: 'ADDED', resource: type, object: copy }
      : { type: 'MODIFIED', resource: type, object: copy, previous });
    return structuredClone(object);
  }

  private emit(event: StoreEvent): void {
    // Listeners write too (controllers); their events are queued so every listener sees all events in commit order.
    this.pending.push(event);
    if (this.delivering) return;
    this.delivering = true;
    let failure: { error: unknown } | undefined;
    for (let next = this.pending.shift(); next !== undefined; next = this.pending.shift()) {
      for (const listener of [...this.listeners]) {
        // The change is committed: one listener failing must not keep the others (watches) from seeing it or
        // the changes queued behind it. The writer still learns of the failure.
        try {
          listener(next);
        } catch (error) {
          failure ??= { error };
        }
      }
    }
    this.delivering = false;
    if (failure !== undefined) throw failure.error;
  }

  private generateName(type: ResourceType, meta: Partial<ObjectMeta>): string {
    const prefix = meta.generateName ?? '';
    for (;;) {
      const name = `${prefix}${randomSuffix()}`;
      if (!this.bucket(type).has(key(type, meta.namespace, name))) return name;
    }
  }

  private bucket(type: ResourceType): Map<string, KubeObject> {
    const id = `${type.group}/${type.resource}`;
    let bucket = this.objects.get(id);
    if (bucket === undefined) {
      bucket = new Map();
      this.objects.set(id, bucket);
    }
    return bucket;
  }
}

/** A copy of a submitted object with its type fields and the given server-owned metadata set. */
function typed(type: ResourceType, submitted: SubmittedObject, metadata: Partial<ObjectMeta>): KubeObject {
  return {
    ...structuredClone(submitted),
    apiVersion: apiVersionOf(type),
    kind: type.kind,
    metadata: { ...structuredClone(submitted.metadata ?? {}), ...metadata },
  } as KubeObject;
}

function key(type: ResourceType, namespace: string | undefined, name: string): string {
  return type.namespaced ? `${namespace ?? ''}/${name}` : `/${name}`;
}
