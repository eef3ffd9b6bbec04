import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadScenario, startKubeSimulator, type KubeSimulator, type Scenario } from '../../src/sandbox/kube-simulator/index.js';
import { runCaptured } from '../helpers/cli.js';

let sim: KubeSimulator | undefined;
let dir: string | undefined;

afterEach(async () => {
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function start(change: Partial<Scenario['document']['kubernetes']> = {}) {
  const base = loadScenario('healthy');
  const scenario = { ...base, document: { ...base.document, kubernetes: { ...base.document.kubernetes, ...change } } };
  sim = await startKubeSimulator({ scenario });
  dir = mkdtempSync(join(tmpdir(), 'aegis-ir-pool-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig, { namespace: 'aegis' });
  const env = { HOME: '/nonexistent', KUBECONFIG: kubeconfig, AEGIS_IR_AUDIT_LOG: join(dir, 'audit.jsonl') };
  return { env };
}

describe('fix db-pool-size against the Kubernetes simulator', () => {
  it('--dry-run shows the YAML diff validated by a server-side dry run and changes nothing', async () => {
    const { env } = await start();
    const run = await runCaptured(['fix', 'db-pool-size', '--to', '40', '--dry-run', '-o', 'json'], { env });
    expect(run.code).toBe(0);
    const document = JSON.parse(run.stdout) as { applied: boolean; plan: { steps: Array<{ action: string }> } };
    expect(document.applied).toBe(false);
    expect(document.plan.steps[0]?.action).toMatch(/^- +pool_max: 20\n\+ +pool_max: 40$/m);
    const again = await runCaptured(['fix', 'db-pool-size', '--to', '40', '--dry-run', '-o', 'json'], { env });
    expect((JSON.parse(again.stdout) as { plan: { steps: Array<{ action: string }> } }).plan.steps[0]?.action).toMatch(/^- +pool_max: 20$/m);
  });

  it('--yes sets the pool size, restarts the deployment and verifies; the lease is released', async () => {
    const { env } = await start();
    const run = await runCaptured(['fix', 'db-pool-size', '--to', '40', '--yes', '-o', 'json'], { env });
    expect(run.code).toBe(0);
    const document = JSON.parse(run.stdout) as { applied: boolean; result: { verification: { details: Record<string, unknown> } } };
    expect(document.applied).toBe(true);
    expect(document.result.verification.details.poolSize).toBe('40');
    expect(document.result.verification.details.restartedAt).toEqual(expect.any(String));
    const second = await runCaptured(['fix', 'db-pool-size', '--to', '40', '--yes', '-o', 'json'], { env });
    expect(second.code).toBe(0);
    expect((JSON.parse(second.stdout) as { result: { reason: string } }).result.reason).toBe('nothing to do');
  });

  it('a lease held by another operator refuses with exit 5 naming them', async () => {
    const { env } = await start({
      leases: [{ name: 'aegis-ir-fix-configmap-aegis-api-config', holder: 'alice@laptop', acquiredAt: new Date().toISOString(), durationSeconds: 600 }],
    } as Partial<Scenario['document']['kubernetes']>);
    const run = await runCaptured(['fix', 'db-pool-size', '--to', '40', '--yes'], { env });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('lock held by alice@laptop');
  });

  it('preflight: without the right to patch the configmap, exit 5 before any prompt', async () => {
    const { env } = await start({ rbac: { deny: [{ verb: 'patch', resource: 'configmaps', group: '', subresource: '' }] } });
    let asked = false;
    const prompter = {
      confirm: async () => (asked = true),
      input: async () => ((asked = true), ''),
    };
    const run = await runCaptured(['fix', 'db-pool-size', '--to', '40'], { env, prompter, stdinIsTTY: true });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('not allowed to patch configmaps/aegis-api-config');
    expect(asked).toBe(false);
  });

  it('the safety cap refuses an absurd pool size unless --max allows it', async () => {
    const { env } = await start();
    expect((await runCaptured(['fix', 'db-pool-size', '--to', '500', '--yes'], { env })).code).toBe(5);
    expect((await runCaptured(['fix', 'db-pool-size', '--to', '500', '--max', '500', '--dry-run'], { env })).code).toBe(0);
  });
});
