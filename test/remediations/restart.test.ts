import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/sandbox/package-root.js';
import { POD } from '../../src/sandbox/kube-simulator/resources.js';
import { markReady } from '../../src/sandbox/kube-simulator/workloads.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { runCaptured } from '../helpers/cli.js';

interface FixDoc {
  plan: { targets: Array<{ pod: string; reason: string }>; steps: Array<{ action: string }>; notes: string[] };
  applied: boolean;
  result: { steps: Array<{ status: string; detail: string }>; verification: { summary: string } | null };
}

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

/** The memory-leak drill, with the OOMKilled pod left unready until the test says so. */
async function leakingCluster(): Promise<Sandbox> {
  const text = readFileSync(join(packageRoot(), 'src', 'sandbox', 'scenarios', 'memory-leak.yaml'), 'utf8').replace('readyAfter: 45s', 'readyAfter: 1h');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const file = join(mkdtempSync(join(tmpdir(), 'aegis-restart-')), 'memory-leak.yaml');
  writeFileSync(file, text);
  sandbox = await startSandbox(file);
  return sandbox;
}

const podsOf = (s: Sandbox) => s.kube.store.list(POD, 'aegis');
const restartsOf = (pod: ReturnType<typeof podsOf>[number]) =>
  ((pod['status'] as { containerStatuses: Array<{ restartCount: number }> }).containerStatuses[0]?.restartCount ?? 0);

describe('fix restart', () => {
  it('plans exactly the affected pods, the nearest its limit first, and changes nothing with --dry-run', async () => {
    const s = await leakingCluster();
    const before = podsOf(s).map((p) => `${p.metadata.name}@${p.metadata.resourceVersion}`);
    const run = await runCaptured(['fix', 'restart', '--dry-run', '-o', 'json'], { env: { HOME: s.dir, ...s.env } });
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as FixDoc;
    const oomPod = podsOf(s).find((p) => restartsOf(p) === 3)?.metadata.name;
    // The OOMKill 3h ago is outside triage.restartWindow: that pod is chosen for its memory.
    expect(doc.plan.targets.map((t) => t.reason)).toEqual([expect.stringMatching(/^9\d% of its memory limit$/), expect.stringMatching(/^OOMKilled 2m\d*s? ago$/)]);
    expect(doc.plan.targets[1]?.pod).toBe(oomPod);
    expect(doc.plan.steps[0]?.action).toMatch(/^POST \/api\/v1\/namespaces\/aegis\/pods\/aegis-api-\S+\/eviction/);
    // The API server was asked, without evicting: the budget refuses while the OOMKilled pod is not ready.
    expect(doc.plan.notes.join('\n')).toContain("Cannot evict pod as it would violate the pod's disruption budget. (The disruption budget aegis-api needs 2 healthy pods and has 2 currently)");
    expect(doc.applied).toBe(false);
    expect(podsOf(s).map((p) => `${p.metadata.name}@${p.metadata.resourceVersion}`)).toEqual(before);
    expect(s.kube.evictions().every((e) => e.status === 429 || e.status === 201)).toBe(true);
  });

  it('--yes evicts one pod at a time, waits through the disruption budget\'s refusal, verifies, and the drill is green', async () => {
    const s = await leakingCluster();
    const triage = async () => JSON.parse((await runCaptured(['triage', '-o', 'json'], { env: { HOME: s.dir, ...s.env } })).stdout) as { severity: string | null; severityReason: string };
    expect((await triage()).severity).toBe('SEV3');
    const original = podsOf(s).map((p) => p.metadata.name);
    const oomPod = podsOf(s).find((p) => restartsOf(p) === 3)?.metadata.name ?? '';
    const running = runCaptured(['fix', 'restart', '--yes', '-o', 'json'], { env: { HOME: s.dir, ...s.env } });
    // Once the budget has refused a real eviction, the OOMKilled pod finishes warming up.
    await expect.poll(() => s.kube.evictions().filter((e) => e.status === 429 && !e.dryRun).length, { timeout: 20_000, interval: 50 }).toBeGreaterThan(0);
    markReady(s.kube.store, 'aegis', oomPod, new Date());
    const run = await running;
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as FixDoc;
    expect(doc.applied).toBe(true);
    expect(doc.result.steps.map((st) => st.status)).toEqual(['done', 'done']);
    expect(doc.result.steps[0]?.detail).toMatch(/^evicted after \d+ disruption-budget refusal\(s\) over .*; replaced by pod\/aegis-api-\S+, Ready after/);
    expect(doc.result.verification?.summary).toBe('3 of 3 pods Ready; memory-usage, oom-history: ok');
    const now = podsOf(s).map((p) => p.metadata.name);
    expect(now).toHaveLength(3);
    expect(now.filter((n) => original.includes(n))).toHaveLength(1);
    // One at a time: the second eviction came after the first one's replacement.
    const accepted = s.kube.evictions().filter((e) => e.status === 201 && !e.dryRun).map((e) => e.pod);
    expect(accepted).toEqual(doc.plan.targets.map((t) => t.pod));
    // The memory-leak drill played through: nothing left at or near a limit, nothing OOMKilled.
    const after = await triage();
    expect(after.severityReason).toMatch(/^(all checks ok|no finding implies a severity)/);
    expect(after.severity).toBeNull();
  });

  it('refuses a pod that is not the app\'s, and restarts the whole deployment with --rolling', async () => {
    const s = await leakingCluster();
    const env = { HOME: s.dir, ...s.env };
    const unknown = await runCaptured(['fix', 'restart', '--pods', 'aegis-api-nope', '--dry-run'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--pods aegis-api-nope: not a pod of deployment\/aegis-api in namespace aegis; it has aegis-api-/);
    const rolling = await runCaptured(['fix', 'restart', '--rolling', '--dry-run', '--max', '3'], { env });
    expect(rolling.code).toBe(0);
    expect(rolling.stdout).toMatch(/\+ spec\.template\.metadata\.annotations\.kubectl\.kubernetes\.io\/restartedAt: \d{4}-/);
  });

  it("restarts only the deployment's own pods: a canary sharing its label is not one, and a deployment that is not there is named", async () => {
    sandbox = await startSandbox(join(packageRoot(), 'test', 'fixtures', 'scenarios', 'canary-outage.yaml'));
    const env = { HOME: sandbox.dir, ...sandbox.env };
    const pods = podsOf(sandbox).map((p) => p.metadata.name);
    const canary = pods.find((name) => name.startsWith('aegis-api-canary-')) ?? '';
    const own = pods.find((name) => !name.startsWith('aegis-api-canary-')) ?? '';
    expect([canary, own].every(Boolean)).toBe(true);
    const refused = await runCaptured(['fix', 'restart', '--pods', canary, '--dry-run'], { env });
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(`--pods ${canary}: not a pod of deployment/aegis-api in namespace aegis`);
    expect(refused.stderr).not.toMatch(/it has .*aegis-api-canary-/);
    const planned = await runCaptured(['fix', 'restart', '--pods', own, '--dry-run', '-o', 'json'], { env });
    expect(planned.code, planned.stderr).toBe(0);
    expect((JSON.parse(planned.stdout) as FixDoc).plan.targets.map((t) => t.pod)).toEqual([own]);
    const missing = await runCaptured(['fix', 'restart', '--deployment', 'nope', '--dry-run'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^aegis-ir: deployment\/nope does not exist in namespace aegis; deployments there: aegis-api, aegis-api-canary\n/);
  });
});
