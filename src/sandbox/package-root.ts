import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'aegis-ir';

let cached: string | undefined;

/**
 * The directory holding aegis-ir's own package.json.
 *
 * Found by walking up from this module's location, so it works both from `src/sandbox/` (vitest, tsx) and from the
 * esbuild bundle where every module lives in `dist/*.js`. The package name is checked because a bundled copy may sit
 * inside another project's `node_modules`, whose package.json must not be mistaken for ours.
 */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && isOurManifest(candidate)) {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`cannot find the ${PACKAGE_NAME} package.json above ${fileURLToPath(import.meta.url)}`);
    }
    dir = parent;
  }
}

/**
 * A directory of data files aegis-ir reads at run time (scenarios, the sandbox's certificates), named by its
 * place under `src/`. The source tree reads them there; the package ships no `src/`, so the build copies them to
 * the same place under `dist/`.
 */
export function shippedDir(...underSrc: string[]): string {
  const source = join(packageRoot(), 'src', ...underSrc);
  return existsSync(source) ? source : join(packageRoot(), 'dist', ...underSrc);
}

function isOurManifest(path: string): boolean {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}
