import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('print', () => {
  // It loads the renderer of a format when asked for it: a call not awaited could write after the run exits.
  it('is awaited wherever a command prints', () => {
    const unawaited = sources(SRC).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/(^|[^\w.])(print|render|emitReport)\(/g)]
        .filter((m) => !/(await|function|return)\s*$/.test(readFileSync(file, 'utf8').slice(Math.max(0, (m.index ?? 0) - 20), (m.index ?? 0) + m[1]!.length)))
        .map((m) => `${relative(SRC, file)}: ${m[0].trim()}`),
    );
    expect(unawaited).toEqual([]);
  });
});
