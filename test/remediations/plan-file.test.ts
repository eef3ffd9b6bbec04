import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startKubeSimulator, type KubeObject, type KubeSimulator } from '../../src/sandbox/kube-simulator/index.js';
import { DEPLOYMENT, HPA } from '../../src/sandbox/kube-simulator/resources.js';
import type { PlanFile } from '../../src/remediations/plan-file.js';
import { runCaptured } from '../helpers/cli.js';

let sim: KubeSimulator | undefined;
let dir = '';
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function start() {
  sim = await startKubeSimulator({ scenario: 'oom' });
  dir = mkdtempSync(join(tmpdir(), 'aegis-plan-file-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig);
  const store = sim.store;
  return {
    planPath: join(dir, 'plan.json'),
    fix: (...argv: string[]) => runCaptured(['fix', ...argv, '--kubeconfig', kubeconfig], { env: { HOME: dir, AEGIS_IR_AUDIT_LOG: join(dir, 'audit.jsonl') } }),
    hpaSpec: () => structuredClone(store.require(HPA, 'aegis', 'aegis-api').spec),
    changeHpa: (spec: Record<string, unknown>) => {
      const hpa = store.require(HPA, 'aegis', 'aegis-api') as KubeObject & { spec: Record<string, unknown> };
      store.update(HPA, { ...hpa, spec: { ...hpa.spec, ...spec } });
    },
    deploymentVersion: () => store.require(DEPLOYMENT, 'aegis', 'aegis-api').metadata.resourceVersion,
  };
}

describe('fix --dry-run --save-plan, then --plan --yes', () => {
  it('saves the reviewed plan with its target, cluster, context and expiry, and applies exactly it', async () => {
    const sandbox = await start();
    const dry = await sandbox.fix('scale', '--by', '1', '--dry-run', '--save-plan', sandbox.planPath);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`apply exactly this plan: aegis-ir fix scale --plan ${sandbox.planPath} --yes`);
    const file = JSON.parse(readFileSync(sandbox.planPath, 'utf8')) as PlanFile;
    expect(file).toMatchObject({
      kind: 'aegis-ir/plan',
      remediation: 'scale',
      target: 'deployment aegis/aegis-api',
      cluster: sim?.url,
      context: expect.any(String),
      options: { by: '1' },
    });
    expect(new Date(file.expiresAt).getTime() - new Date(file.createdAt).getTime()).toBe(15 * 60_000);
    expect(statSync(sandbox.planPath).mode & 0o777).toBe(0o600);
    expect(sandbox.hpaSpec()).toMatchObject({ minReplicas: 3 });
    // The flags come from the plan file: applying needs only --plan and --yes.
    const apply = await sandbox.fix('scale', '--plan', sandbox.planPath, '--yes', '-o', 'json');
    expect(apply.code).toBe(0);
    expect(sandbox.hpaSpec()).toMatchObject({ minReplicas: 4 });
    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    expect(audit).toContain('"event":"plan-saved"');
    expect(audit).toContain(`"planFile":"${sandbox.planPath}"`);
  });

  it('refuses with exit 5, showing the difference, when the plan derived now is not the reviewed one', async () => {
    const sandbox = await start();
    await sandbox.fix('scale', '--by', '1', '--dry-run', '--save-plan', sandbox.planPath);
    // Someone else raised the minimum meanwhile: "--by 1" now means 5, not the 4 reviewed.
    sandbox.changeHpa({ minReplicas: 4 });
    const before = sandbox.deploymentVersion();
    const apply = await sandbox.fix('scale', '--plan', sandbox.planPath, '--yes', '-o', 'json');
    expect(apply.code).toBe(5);
    const { error } = JSON.parse(apply.stdout) as { error: { message: string } };
    expect(error.message).toContain(`the plan derived now differs from the one reviewed in ${sandbox.planPath}`);
    expect(error.message).toContain('- set horizontalpodautoscaler/aegis-api minReplicas 3 → 4');
    expect(error.message).toContain('+ set horizontalpodautoscaler/aegis-api minReplicas 4 → 5');
    expect(sandbox.hpaSpec()).toMatchObject({ minReplicas: 4 });
    expect(sandbox.deploymentVersion()).toBe(before);
  });

  it('refuses an expired plan (exit 5) and one saved for another target', async () => {
    const sandbox = await start();
    await sandbox.fix('scale', '--by', '1', '--dry-run', '--save-plan', sandbox.planPath, '--plan-expiry', '1ms');
    const expired = await sandbox.fix('scale', '--plan', sandbox.planPath, '--yes');
    expect(expired.code).toBe(5);
    expect(expired.stderr).toMatch(/the plan in \S+ \(saved .* by .*\) expired .* ago/);
    await sandbox.fix('scale', '--by', '1', '--dry-run', '--save-plan', sandbox.planPath);
    const file = JSON.parse(readFileSync(sandbox.planPath, 'utf8')) as PlanFile;
    writeFileSync(sandbox.planPath, JSON.stringify({ ...file, context: 'production' }));
    const elsewhere = await sandbox.fix('scale', '--plan', sandbox.planPath, '--yes');
    expect(elsewhere.code).toBe(5);
    expect(elsewhere.stderr).toContain('is for context production');
    expect(sandbox.hpaSpec()).toMatchObject({ minReplicas: 3 });
  });

  it('a plan for another remediation, different flags or no plan at all are usage errors (exit 2)', async () => {
    const sandbox = await start();
    await sandbox.fix('scale', '--by', '1', '--dry-run', '--save-plan', sandbox.planPath);
    const other = await sandbox.fix('rollback', '--plan', sandbox.planPath, '--yes');
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('is for fix scale, not fix rollback');
    const flags = await sandbox.fix('scale', '--by', '2', '--plan', sandbox.planPath, '--yes');
    expect(flags.code).toBe(2);
    expect(flags.stderr).toContain('--by 2 differs from the plan');
    const garbage = join(dir, 'garbage.json');
    writeFileSync(garbage, '{"kind":"something else"}');
    const notPlan = await sandbox.fix('scale', '--plan', garbage, '--yes');
    expect(notPlan.code).toBe(2);
    expect(notPlan.stderr).toContain('is not an aegis-ir plan');
    const withoutDryRun = await sandbox.fix('scale', '--by', '1', '--save-plan', sandbox.planPath, '--yes');
    expect(withoutDryRun.code).toBe(2);
    expect(sandbox.hpaSpec()).toMatchObject({ minReplicas: 3 });
  });
});
