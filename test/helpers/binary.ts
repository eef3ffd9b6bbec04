import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The path to a server binary the integration tests start: `$<envVar>` when set, else the first of
 * `places` and then PATH that is executable; or the reason there is none, for the skip message.
 * Under CI=true a missing binary fails the run instead: a CI job never passes on tests it skipped.
 */
export function findBinary(name: string, envVar: string, install: string, places: string[] = []): { path: string } | { missing: string } {
  const explicit = process.env[envVar];
  const candidates = explicit ? [explicit] : [...places, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name))];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return { path: candidate };
    } catch {
      // not here
    }
  }
  const where = places.length ? `at ${places.join(', ')} or on PATH` : 'on PATH';
  const missing = explicit ? `${envVar}=${explicit} is not executable` : `no ${name} binary ${where} (install it with: ${install}, or set ${envVar})`;
  return missingTool(missing);
}

/** A tool the tests need is missing: a skip on a laptop, a failure under CI=true. */
export function missingTool(missing: string): { missing: string } {
  if (process.env.CI === 'true') throw new Error(`CI=true and a tool the tests need is missing: ${missing}`);
  return { missing };
}
