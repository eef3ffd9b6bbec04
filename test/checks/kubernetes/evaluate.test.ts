import { describe, expect, it } from 'vitest';
import type { Check } from '../../../src/checks/check.js';
import { errorLogsCheck } from '../../../src/checks/kubernetes/error-logs.js';
import { healthExecCheck } from '../../../src/checks/kubernetes/health-exec.js';
import { podHealthCheck } from '../../../src/checks/kubernetes/pod-health.js';
import { recentRolloutsCheck } from '../../../src/checks/kubernetes/recent-rollouts.js';
import { resourceUsageCheck } from '../../../src/checks/kubernetes/resource-usage.js';
import { loadFixtures } from '../../helpers/fixtures.js';
import { testConfig } from '../../helpers/config.js';

const CHECKS: Check[] = [podHealthCheck, resourceUsageCheck, recentRolloutsCheck, errorLogsCheck, healthExecCheck];

describe.each(CHECKS.map((c) => [c.id, c] as const))('%s evaluate', (id, check) => {
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
      })),
    ).toEqual(fixture.expect);
    for (const f of findings) {
      expect(f.check).toBe(id);
      expect(f.runbook).toMatch(/^runbooks\/incident-response\.md#[a-z0-9-]+$/);
      expect(f.summary.length).toBeGreaterThan(10);
    }
  });
});
