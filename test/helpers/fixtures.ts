import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** A recorded evidence file and the findings its evaluation must produce. */
export interface EvaluationFixture {
  name: string;
  description: string;
  now: Date;
  config?: Record<string, unknown>;
  evidence: unknown;
  expect: Array<{ code: string; severity: string | null; resource?: string | null; since?: string }>;
}

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'checks');

/** Every fixture of a check, from `test/fixtures/checks/<check>/*.yaml`. */
export function loadFixtures(check: string): EvaluationFixture[] {
  const dir = join(ROOT, check);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const data = parse(readFileSync(join(dir, file), 'utf8')) as Omit<EvaluationFixture, 'name' | 'now'> & { now: string | Date };
      return { ...data, name: file.replace(/\.yaml$/, ''), now: new Date(data.now) };
    });
}
