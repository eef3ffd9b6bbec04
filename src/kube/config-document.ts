import { isMap, isScalar, parseDocument, stringify, type Document, type YAMLMap } from 'yaml';
import { UsageError } from '../core/errors.js';

/** Where an app setting lives in a ConfigMap: a data key, or a YAML document in one and the dotted path inside it. */
export interface ConfigKey {
  dataKey: string;
  path: string[];
}

/** A value a setting can be set to. */
export type ConfigValue = string | number | boolean;

/** Reads `DB_POOL_SIZE` or `config.yaml#database.pool_max`. */
export function parseConfigKey(text: string): ConfigKey {
  const [dataKey = '', path = ''] = text.split('#', 2);
  return { dataKey, path: path ? path.split('.') : [] };
}

/** `config.yaml#ai.timeout`, as the config writes it. */
export function configKeyText(key: ConfigKey): string {
  return `${key.dataKey}${key.path.length ? `#${key.path.join('.')}` : ''}`;
}

/** The setting's current value as text, or null when it is not set (or the data key holds no YAML mapping). */
export function readConfigValue(data: Record<string, string> | undefined, key: ConfigKey): string | null {
  const text = data?.[key.dataKey];
  if (text === undefined) return null;
  if (!key.path.length) return text.trim() || null;
  const document = parseDocument(text);
  if (document.errors.length || !isMap(document.contents)) return null;
  const value: unknown = document.getIn(key.path);
  return value === undefined || value === null || typeof value === 'object' ? null : String(value);
}

/**
 * `text` (the data key's content) with the setting at `path` set to `value`, every other byte as it
 * was: the value's own characters are replaced in place (keeping its quoting style), and a missing key
 * is added as new lines at the end of its parent mapping, indented like its siblings. So comments,
 * order, blank lines and every untouched key stay byte-identical, and the diff shows only the change.
 * The result is parsed again and must differ from the original in that setting alone.
 */
export function setConfigValue(text: string, path: string[], value: ConfigValue): string {
  if (!path.length) return String(value);
  const document = parseDocument(text);
  if (document.errors.length || !(isMap(document.contents) || document.contents === null)) {
    throw new UsageError(`the ConfigMap key holds no YAML mapping, so ${path.join('.')} cannot be set in it`);
  }
  const next = splice(text, document, path, value);
  const expected = parseDocument(text);
  expected.setIn(path, value);
  const reread = parseDocument(next);
  if (reread.errors.length || JSON.stringify(reread.toJS()) !== JSON.stringify(expected.toJS())) {
    throw new UsageError(`${path.join('.')} cannot be set in place in this YAML (a flow mapping or an alias on its path); edit it by hand`);
  }
  return next;
}

function splice(text: string, document: Document, path: string[], value: ConfigValue): string {
  const node = document.getIn(path, true);
  if (isScalar(node) && node.range) {
    const [start, end] = node.range;
    return text.slice(0, start) + scalarText(value, node.type) + text.slice(end);
  }
  if (node !== undefined) throw new UsageError(`${path.join('.')} is a mapping or a list, not a single value`);
  // The deepest node that exists on the path must be a block mapping; what is missing below it is written out as new lines.
  let depth = path.length - 1;
  while (depth > 0 && document.getIn(path.slice(0, depth), true) === undefined) depth -= 1;
  const parent: unknown = depth === 0 ? document.contents : document.getIn(path.slice(0, depth), true);
  if (parent !== null && (!isMap(parent) || parent.flow)) {
    throw new UsageError(`${path.slice(0, depth).join('.') || 'the document'} is not a block mapping, so ${path.join('.')} cannot be added to it`);
  }
  const items = (parent as YAMLMap | null)?.items ?? [];
  const first = items[0]?.key as { range?: [number, number, number] } | undefined;
  const indent = first?.range ? columnOf(text, first.range[0]) : 0;
  const unit = 2;
  const lines = path.slice(depth).map((segment, i, rest) => {
    const pad = ' '.repeat(indent + i * unit);
    return i === rest.length - 1 ? `${pad}${segment}: ${scalarText(value, 'PLAIN')}` : `${pad}${segment}:`;
  });
  if (!parent || !items.length) {
    const base = text.length && !text.endsWith('\n') ? `${text}\n` : text;
    return `${base}${lines.join('\n')}\n`;
  }
  const last = items[items.length - 1] as { value?: { range?: [number, number, number] }; key?: { range?: [number, number, number] } };
  const lastEnd = last.value?.range?.[1] ?? last.key?.range?.[1] ?? text.length;
  // A nested mapping's range ends after its last newline; a scalar's at its last character.
  if (text[lastEnd - 1] === '\n') return `${text.slice(0, lastEnd)}${lines.join('\n')}\n${text.slice(lastEnd)}`;
  const lineEnd = text.indexOf('\n', lastEnd);
  const at = lineEnd === -1 ? text.length : lineEnd;
  return `${text.slice(0, at)}\n${lines.join('\n')}${lineEnd === -1 ? '\n' : ''}${text.slice(at)}`;
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/** The value written as YAML would read it back: in the original's quotes when it had them. */
function scalarText(value: ConfigValue, type: string | undefined): string {
  if (typeof value === 'string' && type === 'QUOTE_DOUBLE') return JSON.stringify(value);
  if (typeof value === 'string' && type === 'QUOTE_SINGLE') return `'${value.replace(/'/g, "''")}'`;
  return stringify(value).trimEnd();
}

/** A minimal unified diff of the lines that differ; `after` says where the new text comes from. */
export function lineDiff(before: string, after: string, label: string, afterNote = 'after'): string {
  const a = before.split('\n');
  const b = after.split('\n');
  const lines = [`--- ${label} (now)`, `+++ ${label} (${afterNote})`];
  // Only in-place edits and appended lines occur, so matching from both ends finds the changed block.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail += 1;
  for (const line of a.slice(head, a.length - tail)) lines.push(`-${line}`);
  for (const line of b.slice(head, b.length - tail)) lines.push(`+${line}`);
  return lines.join('\n');
}
