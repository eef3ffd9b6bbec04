/**
 * What an applied Kubernetes change replaced, recorded with the step's outcome in the audit log (SPEC
 * guard 9), so that `fix revert` can restore it and can tell whether the object changed since.
 */
export type Replaced =
  | {
      kind: 'configmap';
      namespace: string;
      name: string;
      /** The deployment restarted so its pods read the change; a revert restarts it again. */
      deployment: string;
      /** Each data key's whole text before and after (null: the key did not exist, or was removed). */
      data: Record<string, { before: string | null; after: string | null }>;
    }
  | {
      kind: 'deployment' | 'horizontalpodautoscaler';
      namespace: string;
      name: string;
      /** The replaced parts by JSON pointer (`/spec/template`, `/spec/replicas`), before and after (as stored). */
      parts: Record<string, { before: unknown; after: unknown }>;
    };

/** `key` as one step of a JSON pointer (RFC 6901): `aegis-ir.dev/rolled-back-from` → `aegis-ir.dev~1rolled-back-from`. */
export function pointerKey(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The value at a JSON pointer (RFC 6901) of `object`, undefined when absent. */
export function pointerGet(object: unknown, pointer: string): unknown {
  let node: unknown = object;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** JSON with sorted keys (dates as ISO strings): two reads of the same object compare equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  ) ?? 'null';
}

/** The parts of an object a change touched, before and after: what {@link Replaced} records for a workload write. */
export function replacedParts(before: object, after: object, pointers: readonly string[]): Record<string, { before: unknown; after: unknown }> {
  const parts: Record<string, { before: unknown; after: unknown }> = {};
  for (const pointer of pointers) {
    const was = pointerGet(before, pointer);
    const now = pointerGet(after, pointer);
    // Dates become strings, as they will read back from the audit log.
    if (canonical(was) !== canonical(now)) parts[pointer] = { before: JSON.parse(canonical(was ?? null)), after: JSON.parse(canonical(now ?? null)) };
  }
  return parts;
}

/** One value a change wrote: where it is (a JSON pointer), what it was and what it became (undefined: absent). */
export interface LeafChange {
  pointer: string;
  before: unknown;
  after: unknown;
}

/** The pod-template annotation `kubectl rollout restart` stamps: a restart, not a setting a revert could give back. */
export const RESTARTED_AT_POINTER = '/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt';

/**
 * The values that differ between `before` and `after` (as {@link canonical} reads them), down to the leaves: objects key
 * by key, lists of the same length item by item, anything else whole. Null is absent, as Kubernetes stores it.
 */
export function leafChanges(before: unknown, after: unknown, pointer = ''): LeafChange[] {
  const absent = (v: unknown) => v === null || v === undefined;
  if (absent(before) && absent(after)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    return [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .sort()
      .flatMap((key) => leafChanges(before[key], after[key], `${pointer}/${pointerKey(key)}`));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, i) => leafChanges(item, after[i], `${pointer}/${i}`));
  }
  if (canonical(before) === canonical(after)) return [];
  return [{ pointer, before: absent(before) ? undefined : before, after: absent(after) ? undefined : after }];
}

/** Every value a workload change wrote, at its full pointer, leaving out the restart stamp. */
export function workloadLeafChanges(replaced: Extract<Replaced, { parts: unknown }>): LeafChange[] {
  return Object.entries(replaced.parts)
    .flatMap(([pointer, part]) => leafChanges(part.before, part.after, pointer))
    .filter((leaf) => leaf.pointer !== RESTARTED_AT_POINTER);
}
