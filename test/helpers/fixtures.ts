import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Check } from '../../src/checks/check.js';
import { testConfig } from './config.js';

/** A recorded evidence file and the findings its evaluation must produce. */
export interface EvaluationFixture {
  name: string;
  description: string;
  now: Date;
  config?: Record<string, unknown>;
  evidence: unknown;
  expect: Array<{ code: string; severity: string | null; resource?: string | null; since?: string; summary?: string; next?: string[] }>;
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

/**
 * Evaluates every fixture of each check and compares the findings with the fixture's `expect`
 * (code and severity; resource, since, summary and next when the fixture lists them).
 */
export function describeEvaluations(checks: readonly Check[]): void {
  describe.each(checks.map((c) => [c.id, c] as const))('%s evaluate', (id, check) => {
    const fixtures = loadFixtures(id);
    it('has fixtures', () => {
      expect(fixtures.length).toBeGreaterThan(0);
    });
    it.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fixture) => {
      const findings = check.evaluate(fixture.evidence, { config: testConfig(fixture.config), now: fixture.now });
      expect(
        findings.map((f) => ({
          code: f.code,
          severity: f.severity,
          ...(fixture.expect.some((e) => 'resource' in e) ? { resource: f.resource } : {}),
          ...(fixture.expect.some((e) => 'since' in e) ? { since: f.since } : {}),
          ...(fixture.expect.some((e) => 'summary' in e) ? { summary: f.summary } : {}),
          ...(fixture.expect.some((e) => 'next' in e) ? { next: f.next } : {}),
        })),
      ).toEqual(fixture.expect);
      for (const f of findings) {
        expect(f.check).toBe(id);
        expect(f.runbook).toMatch(/^runbooks\/incident-response\.md#[a-z0-9-]+$/);
        expect(f.summary.length).toBeGreaterThan(10);
      }
    });
  });
}
