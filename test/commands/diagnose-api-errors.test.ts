import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSimulator, type KubeSimulator } from '../../src/sandbox/kube-simulator/index.js';
import { runCaptured } from '../helpers/cli.js';

interface Document {
  severity: string | null;
  findings: Array<{ code: string; check: string; summary: string; next: string[] }>;
  checks: Array<{ id: string; status: string; reason?: string }>;
}

describe('diagnose api-errors against the cluster simulator', () => {
  let sim: KubeSimulator;
  let dir = '';
  let kubeconfig = '';
  beforeAll(async () => {
    sim = await startKubeSimulator({ scenario: 'crashloop-after-deploy' });
    dir = mkdtempSync(join(tmpdir(), 'aegis-diagnose-'));
    kubeconfig = join(dir, 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig);
  });
  afterAll(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('groups the crash, names the rollout and ends with the rollback to run', async () => {
    const run = await runCaptured(['diagnose', 'api-errors', '--kubeconfig', kubeconfig, '-o', 'json']);
    const document = JSON.parse(run.stdout) as Document;
    expect(run.code).toBe(3);
    expect(document.severity).toBe('SEV2');
    const shape = document.findings.find((f) => f.code === 'AEG-3050' && f.summary.includes('FATAL'));
    expect(shape?.summary).toBe('2× FATAL in 2 pod(s): FATAL config: required key AEGIS_AI_PROVIDER_KEY missing');
    const decision = document.findings.at(-1);
    expect(decision?.code).toBe('AEG-3055');
    expect(decision?.summary).toMatch(/^likely cause: the rollout of revision 4 \(deploy api v2\.4\.1\)/);
    expect(decision?.next).toEqual(['aegis-ir fix rollback --dry-run']);
    expect(document.checks.find((c) => c.id === 'error-rate')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/no Prometheus configured/) });
  });

  it('prints the decision last in text, with the command under Next', async () => {
    const run = await runCaptured(['diagnose', 'api-errors', '--kubeconfig', kubeconfig]);
    expect(run.stdout).toMatch(/AEG-3055 likely cause: the rollout of revision 4/);
    expect(run.stdout).toMatch(/Next\n(?:.*\n)*\s+\$ aegis-ir fix rollback --dry-run/);
  });
});
