import { badRequest, unsupportedMediaType } from './status.js';

type Json = unknown;
type JsonObject = Record<string, Json>;

const isObject = (value: Json): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, everything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  return mergeWith(target, patch, () => undefined);
}

/**
 * Strategic merge patch as far as the objects served here need it: a merge patch, except that lists whose elements
 * are objects with a `name` (containers, env, ports, volumes) are merged element by element on that key, and
 * `$patch: delete` in such an element removes it. That is what `kubectl rollout restart`, `set image` and `edit`
 * send.
 */
export function strategicMergePatch(target: Json, patch: Json): Json {
  return mergeWith(target, patch, mergeNamedLists);
}

function mergeWith(target: Json, patch: Json, mergeList: (target: Json[], patch: Json[]) => Json[] | undefined): Json {
  if (Array.isArray(patch) && Array.isArray(target)) return mergeList(target, patch) ?? structuredClone(patch);
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergeWith(result[key], value, mergeList);
  }
  return result;
}

function mergeNamedLists(target: Json[], patch: Json[]): Json[] | undefined {
  const named = (items: Json[]): boolean => items.every((i) => isObject(i) && typeof i['name'] === 'string');
  if (patch.length === 0 || !named(patch) || !named(target)) return undefined;
  const result = structuredClone(target) as JsonObject[];
  for (const element of patch as JsonObject[]) {
    const index = result.findIndex((r) => r['name'] === element['name']);
    if (element['$patch'] === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = strategicMergePatch(result[index], element) as JsonObject;
    } else {
      result.push(structuredClone(element));
    }
  }
  return result;
}

interface Operation {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`invalid JSON pointer "${path}"`);
  return path.slice(1).split('/').map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function parentOf(document: Json, path: string[], op: string): { parent: JsonObject | Json[]; key: string } {
  let current = document;
  for (const part of path.slice(0, -1)) {
    current = Array.isArray(current) ? current[Number(part)] : isObject(current) ? current[part] : undefined;
  }
  if (!Array.isArray(current) && !isObject(current)) {
    throw badRequest(`jsonpatch ${op} operation does not apply: doc is missing path: "/${path.join('/')}"`);
  }
  return { parent: current, key: path[path.length - 1] ?? '' };
}

function read(document: Json, path: string[]): Json {
  if (path.length === 0) return document;
  const { parent, key } = parentOf(document, path, 'get');
  const value = Array.isArray(parent) ? parent[Number(key)] : parent[key];
  if (value === undefined) throw badRequest(`jsonpatch operation does not apply: doc is missing path: "/${path.join('/')}"`);
  return value;
}

function remove(document: Json, path: string[]): void {
  const { parent, key } = parentOf(document, path, 'remove');
  read(document, path);
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else delete parent[key];
}

function add(document: Json, path: string[], value: Json, replace: boolean): Json {
  if (path.length === 0) return structuredClone(value);
  const { parent, key } = parentOf(document, path, replace ? 'replace' : 'add');
  if (replace) read(document, path);
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : Number(key);
    if (replace) parent[index] = structuredClone(value);
    else parent.splice(index, 0, structuredClone(value));
  } else {
    parent[key] = structuredClone(value);
  }
  return document;
}

/** RFC 6902 JSON patch (add, remove, replace, move, copy, test), as `kubectl rollout undo` sends. */
export function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw badRequest('json patch must be an array of operations');
  let document = structuredClone(target);
  for (const raw of operations as Operation[]) {
    const path = pointer(raw.path);
    switch (raw.op) {
      case 'add': document = add(document, path, raw.value, false); break;
      case 'replace': document = add(document, path, raw.value, true); break;
      case 'remove': remove(document, path); break;
      case 'move': case 'copy': {
        const from = pointer(raw.from ?? '');
        const value = structuredClone(read(document, from));
        if (raw.op === 'move') remove(document, from);
        document = add(document, path, value, false);
        break;
      }
      case 'test':
        if (JSON.stringify(read(document, path)) !== JSON.stringify(raw.value)) {
          throw badRequest(`testing value /${path.join('/')} failed`);
        }
        break;
      default: throw badRequest(`unexpected jsonpatch operation "${raw.op}"`);
    }
  }
  return document;
}

/** Applies a PATCH body according to its content type; 415 for types the apiserver would not accept either. */
export function applyPatch(contentType: string, target: Json, patch: Json): Json {
  const type = contentType.split(';')[0]?.trim() ?? '';
  switch (type) {
    case 'application/merge-patch+json': return mergePatch(target, patch);
    case 'application/strategic-merge-patch+json': return strategicMergePatch(target, patch);
    case 'application/json-patch+json': return jsonPatch(target, patch);
    default: throw unsupportedMediaType(contentType);
  }
}
