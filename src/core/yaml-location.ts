import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';

/**
 * Where in a YAML file a syntax error is, by key: the dotted path of the last key that starts before
 * `offset` (`users[0].user.token`), read from what the parser could make of the text. Only key names are
 * returned, never values, so an error naming it cannot leak a token; only keys that begin their line count, so
 * a value read as a key is never named. Null when no key precedes it.
 */
export function keyPathBefore(text: string, offset: number): string | null {
  const { contents } = parseDocument(text);
  let found: string | null = null;
  const visit = (node: unknown, path: string) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (!key?.range || key.range[0] > offset) return;
        // A "key" later on its parent's line is a value's text read as one (`token: abc: def`): never named.
        if (!/^[\s-]*$/.test(text.slice(text.lastIndexOf('\n', key.range[0] - 1) + 1, key.range[0]))) return;
        const name = isScalar(key) ? String(key.value) : '?';
        const at = path ? `${path}.${name}` : name;
        found = at;
        visit(pair.value, at);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const range = (item as Node | null)?.range;
        if (range && range[0] <= offset) visit(item, `${path}[${i}]`);
      });
    }
  };
  visit(contents, '');
  return found;
}

/** The offset of the start of 1-based `line` in `text`. */
export function offsetOfLine(text: string, line: number): number {
  let offset = 0;
  for (let n = 1; n < line && offset !== -1; n += 1) offset = text.indexOf('\n', offset) + 1 || -1;
  return offset === -1 ? text.length : offset;
}
