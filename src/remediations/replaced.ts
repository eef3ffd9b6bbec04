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
      /** Each data key's whole text before and after (null: the key did not exist). */
      data: Record<string, { before: string | null; after: string }>;
    }
  | {
      kind: 'deployment' | 'horizontalpodautoscaler';
      namespace: string;
      name: string;
      /** The replaced parts by JSON pointer (`/spec/template`, `/spec/replicas`), before and after (as stored). */
      parts: Record<string, { before: unknown; after: unknown }>;
    };

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
