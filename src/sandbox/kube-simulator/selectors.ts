import { badRequest } from './status.js';
import type { KubeObject } from './store.js';

/** A compiled selector: true when the object matches. */
export type Selector = (object: KubeObject) => boolean;

const MATCH_ALL: Selector = () => true;

/** Splits on commas that are not inside parentheses (`app in (a,b),tier=web`). */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === '(') depth += 1;
    else if (text[i] === ')') depth -= 1;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

type Requirement = (labels: Record<string, string>) => boolean;

function parseRequirement(text: string): Requirement {
  const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text);
  if (set !== null) {
    const [, key = '', op, list = ''] = set;
    const values = new Set(list.split(',').map((v) => v.trim()).filter((v) => v !== ''));
    return op === 'in'
      ? (labels) => labels[key] !== undefined && values.has(labels[key])
      : (labels) => labels[key] === undefined || !values.has(labels[key]);
  }
  const comparison = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(text);
  if (comparison !== null) {
    const [, key = '', op, value = ''] = comparison;
    return op === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  const exists = /^(!?)([\w./-]+)$/.exec(text);
  if (exists !== null) {
    const [, not, key = ''] = exists;
    return not === '!' ? (labels) => labels[key] === undefined : (labels) => labels[key] !== undefined;
  }
  throw badRequest(`unable to parse requirement: found '${text}', expected: key, !key, key=value, key!=value, ` +
    `key in (values), key notin (values)`);
}

/** Compiles a `labelSelector` (=, ==, !=, in, notin, exists, !exists); 400 BadRequest when unparsable. */
export function parseLabelSelector(text: string | null): Selector {
  if (text === null || text.trim() === '') return MATCH_ALL;
  const requirements = splitRequirements(text).map(parseRequirement);
  return (object) => {
    const labels = object.metadata.labels ?? {};
    return requirements.every((r) => r(labels));
  };
}

/**
 * Compiles a `fieldSelector` of `path=value` / `path!=value` terms over dotted field paths (`metadata.name`,
 * `status.phase`, `involvedObject.name`, `spec.nodeName`, …).
 */
export function parseFieldSelector(text: string | null): Selector {
  if (text === null || text.trim() === '') return MATCH_ALL;
  const terms = text.split(',').map((term) => {
    const match = /^\s*([\w.]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (match === null) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const [, path = '', op, value = ''] = match;
    return { path: path.split('.'), negate: op === '!=', value };
  });
  return (object) => terms.every((t) => (fieldValue(object, t.path) === t.value) !== t.negate);
}

function fieldValue(object: KubeObject, path: string[]): string {
  let current: unknown = object;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return '';
    current = (current as Record<string, unknown>)[part];
  }
  return current === undefined || current === null ? '' : String(current);
}
