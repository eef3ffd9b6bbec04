import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCaptured } from '../helpers/cli.js';
import { listScenarios } from '../../src/sandbox/kube-simulator/index.js';

describe('drill', () => {
  it('lists the built-in scenarios with the verdict each must produce', async () => {
    const run = await runCaptured(['drill', '--list', '-o', 'json']);
    expect(run.code).toBe(0);
    const document = JSON.parse(run.stdout) as { scenarios: Array<{ name: string; expectedSeverity: string | null }> };
    const names = document.scenarios.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['healthy', 'api-down', 'crashloop-after-deploy', 'oom']));
    expect(document.scenarios.find((s) => s.name === 'api-down')?.expectedSeverity).toBe('SEV1');
    const text = (await runCaptured(['drill', '--list'])).stdout;
    expect(text).toMatch(/^api-down {16}API down — /m);
    expect(text.split('\n').filter((line) => line.length > 80)).toEqual([]);
  });

  it.each(listScenarios())('plays %s through triage to the verdict it expects', async (scenario) => {
    const run = await runCaptured(['drill', scenario, '-o', 'json']);
    const document = JSON.parse(run.stdout) as {
      command: string;
      passed: boolean;
      scenario: { expectedSeverity: string | null };
      sandbox: { env: Record<string, string> };
      triage: { severity: string | null };
    };
    expect(run.stderr).toBe('');
    expect(document.command).toBe('drill');
    expect(document.triage.severity).toBe(document.scenario.expectedSeverity);
    expect(document.passed).toBe(true);
    expect(document.sandbox.env.KUBECONFIG).toMatch(/kubeconfig$/);
    expect(run.code).toBe(0);
  });

  it('dates the api-down outage from when the pods turned unready (7m ago), not from when they started (3d ago)', async () => {
    const before = Date.now();
    const run = await runCaptured(['drill', 'api-down', '-o', 'json']);
    const document = JSON.parse(run.stdout) as { triage: { impact: { startedAt: { value: string | null } } } };
    const startedAt = Date.parse(document.triage.impact.startedAt.value ?? '');
    expect(before - startedAt).toBeGreaterThanOrEqual(7 * 60_000 - 1_000);
    expect(Date.now() - startedAt).toBeLessThan(8 * 60_000);
  });

  it('prints the triage and, since the sandbox is gone when it ends, how to keep it rather than exports', async () => {
    const run = await runCaptured(['drill', 'oom']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Drill: oom');
    expect(run.stdout).toContain('SEV3  Minor degradation');
    expect(run.stdout).not.toContain('export ');
    expect(run.stdout).toContain('\n  aegis-ir drill oom --keep\n');
  });

  it("plays against the sandbox whatever the operator's own cluster and database settings say", async () => {
    const run = await runCaptured(['drill', 'oom', '-o', 'json', '-n', 'production', '--context', 'prod'], {
      env: { HOME: '/nonexistent', AEGIS_IR_CONTEXT: 'prod', DATABASE_URL: 'postgres://app@127.0.0.1:1/aegis', PGHOST: '127.0.0.1' },
    });
    expect(run.stderr).toBe('');
    const document = JSON.parse(run.stdout) as { passed: boolean; triage: { severity: string | null } };
    expect(document.triage.severity).toBe('SEV3');
    expect(document.passed).toBe(true);
    expect(run.code).toBe(0);
  });

  it("plays against the sandbox whatever the operator's config file names as cluster, database and Prometheus", async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'aegis-drill-config-')), 'config.yaml');
    writeFileSync(
      config,
      'context: prod\ndatabase:\n  url: postgres://app@127.0.0.1:1/aegis\nprometheus:\n  url: http://127.0.0.1:1\n  token: s3cret-token\n',
    );
    const run = await runCaptured(['drill', 'oom', '-o', 'json', '--config', config]);
    expect(run.stderr).toBe('');
    const document = JSON.parse(run.stdout) as { passed: boolean; triage: { checks: Array<{ id: string; status: string }> } };
    expect(document.passed).toBe(true);
    const status = Object.fromEntries(document.triage.checks.map((c) => [c.id, c.status]));
    expect([status['db-connections'], status['error-rate']]).toEqual(['skipped', 'skipped']);
    expect(run.code).toBe(0);
  });

  it('exits 2 on an unknown scenario, listing the built-in ones', async () => {
    const run = await runCaptured(['drill', 'meteor-strike']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('meteor-strike');
    expect(run.stderr).toContain('crashloop-after-deploy');
    expect(run.stderr).toContain('try: aegis-ir drill --list');
  });
});
