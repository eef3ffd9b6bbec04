import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const built = existsSync(join(DIST, 'aegis-ir.js'));
if (!built) console.warn('skipping the bundle test: dist/aegis-ir.js is not built (npm test builds it first)');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('the shipped bundle', () => {
  it.skipIf(!built)('carries no source maps and is minified, so a start reads as little as it can', () => {
    const all = files(DIST);
    expect(all.filter((f) => f.endsWith('.map'))).toEqual([]);
    const scripts = all.filter((f) => f.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(1);
    for (const file of scripts) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toContain('sourceMappingURL');
      // esbuild marks each module's code with its path only when it does not minify.
      expect(text, file).not.toMatch(/^\/\/ (src|node_modules)\//m);
    }
  });

  it.skipIf(!built)('makes a require() only in the files that call one, which Node would otherwise make for every file it loads', () => {
    const shebang = '#!/usr/bin/env node\n';
    const banner = "import { createRequire as __aegisCreateRequire } from 'node:module';\nconst require = __aegisCreateRequire(import.meta.url);\n";
    const scripts = files(DIST).filter((f) => f.endsWith('.js'));
    const making = scripts.filter((file) => {
      const text = readFileSync(file, 'utf8');
      expect(text.startsWith(shebang), file).toBe(true);
      const makes = text.startsWith(banner, shebang.length);
      expect({ file, calls: /\brequire\b/.test(text.slice(shebang.length + (makes ? banner.length : 0))) }).toEqual({ file, calls: makes });
      return makes;
    });
    // esbuild's require() shim and the few CommonJS modules that call one.
    expect(making.length).toBeGreaterThan(0);
    expect(making.length).toBeLessThan(scripts.length / 10);
  });
});
