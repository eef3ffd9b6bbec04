import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readAuditLog } from '../../src/remediations/audit.js';
import type { KubeObject } from '../../src/sandbox/kube-simulator/index.js';
import { CONFIG_MAP, DEPLOYMENT, HPA, LEASE } from '../../src/sandbox/kube-simulator/resources.js';
import { runCaptured } from '../helpers/cli.js';
import { simulatedCluster, type SimulatedCluster } from '../helpers/simulator.js';

let cluster: SimulatedCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

interface ListDocument {
  schemaVersion: number;
  command: string;
  mitigations: Array<{ run: string; remediation: string; age: string; ageMs: number; target: string; summary: string; changes: string[]; revertCommand: string; replaced: unknown[] }>;
}

async function start(scenario: string) {
  cluster = await simulatedCluster(scenario);
  const dir = dirname(cluster.kubeconfig);
  const audit = join(dir, 'audit.jsonl');
  const env = { HOME: dir, KUBECONFIG: cluster.kubeconfig, AEGIS_IR_AUDIT_LOG: audit };
  const store = cluster.sim.store;
  return {
    audit,
    dir,
    env,
    run: (...argv: string[]) => runCaptured(argv, { env }),
    list: async () => {
      const listed = await runCaptured(['fix', 'revert', '--list', '-o', 'json'], { env });
      expect(listed.code).toBe(0);
      return JSON.parse(listed.stdout) as ListDocument;
    },
    configYaml: () => ((store.require(CONFIG_MAP, 'aegis', 'aegis-api-config').data ?? {}) as Record<string, string>)['config.yaml'] ?? '',
    container: () => (store.require(DEPLOYMENT, 'aegis', 'aegis-api') as KubeObject & { spec: { template: { spec: { containers: Array<{ name: string; resources?: { limits?: { memory?: string } } }> } } } }).spec.template.spec.containers.find((c) => c.name === 'aegis-api'),
    hpa: () => store.require(HPA, 'aegis', 'aegis-api') as KubeObject & { spec: { minReplicas: number; maxReplicas: number } },
    store,
  };
}

describe('fix revert --list', () => {
  it('says so when nothing is in effect, in text and in JSON', async () => {
    const sandbox = await start('oom');
    const text = await sandbox.run('fix', 'revert', '--list');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^No mitigation is still in effect \(audit log: .*audit\.jsonl\)\.$/m);
    expect(await sandbox.list()).toMatchObject({ schemaVersion: 1, command: 'fix revert --list', mitigations: [] });
    const bare = await sandbox.run('fix', 'revert', '--yes');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('nothing to revert: no mitigation recorded in');
  });

  it('lists the applied mitigations newest first with their age and revert command; a dry run is none; a reverted one is gone', async () => {
    const sandbox = await start('oom');
    expect((await sandbox.run('fix', 'scale', '--by', '1', '--yes')).code).toBe(0);
    expect((await sandbox.run('fix', 'memory-limit', '--factor', '1.5', '--dry-run')).code).toBe(0);
    expect((await sandbox.run('fix', 'memory-limit', '--factor', '1.5', '--yes')).code).toBe(0);
    expect((await sandbox.run('fix', 'batch-size', '--to', '2500', '--yes')).code).toBe(0);
    const listed = await sandbox.list();
    expect(listed.mitigations.map((m) => m.remediation)).toEqual(['batch-size', 'memory-limit', 'scale']);
    const [batch, memory, scale] = listed.mitigations;
    expect(memory?.summary).toBe('raise the memory limit of aegis-api/aegis-api from 512Mi to 768Mi');
    expect(memory?.changes).toEqual(['set container aegis-api memory limit 512Mi → 768Mi']);
    expect(scale?.target).toBe('deployment aegis/aegis-api');
    expect(memory?.revertCommand).toBe(`aegis-ir fix revert ${memory?.run}`);
    expect(scale?.ageMs).toBeGreaterThanOrEqual(memory?.ageMs ?? Infinity);
    expect(batch?.age).toMatch(/^\d+(ms|s)$/);
    const text = await sandbox.run('fix', 'revert', '--list');
    expect(text.stdout.indexOf('fix batch-size')).toBeLessThan(text.stdout.indexOf('fix scale'));
    expect(text.stdout).toContain(`undo: aegis-ir fix revert ${scale?.run}`);

    // The memory limit, reverted by id: back to 512Mi, gone from the list, the revert not listed itself.
    const reverted = await sandbox.run('fix', 'revert', memory?.run ?? '', '--yes', '-o', 'json');
    expect(reverted.code).toBe(0);
    expect(sandbox.container()?.resources?.limits?.memory).toBe('512Mi');
    expect((await sandbox.list()).mitigations.map((m) => m.remediation)).toEqual(['batch-size', 'scale']);
    const records = readAuditLog(sandbox.audit).filter((r) => r.remediation === 'revert');
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => r.reverts === memory?.run)).toBe(true);

    // A revert is not reverted in turn; an already reverted run says by whom.
    const revertRun = records[0]?.run ?? '';
    expect((await sandbox.run('fix', 'revert', revertRun, '--yes')).stderr).toContain('is a revert (of run');
    const again = await sandbox.run('fix', 'revert', memory?.run ?? '', '--yes');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`was already reverted by run ${revertRun}`);
  });
});

describe('fix revert', () => {
  it('restores a ConfigMap byte for byte, with a restart, and verifies', async () => {
    const sandbox = await start('oom');
    const before = sandbox.configYaml();
    expect((await sandbox.run('fix', 'batch-size', '--to', '2500', '--yes')).code).toBe(0);
    expect(sandbox.configYaml()).not.toBe(before);
    const dryRun = await sandbox.run('fix', 'revert', '--dry-run', '-o', 'json');
    expect(dryRun.code).toBe(0);
    const plan = (JSON.parse(dryRun.stdout) as { plan: { summary: string; steps: Array<{ description: string; action: string }> } }).plan;
    expect(plan.steps.map((s) => s.description)).toEqual([
      expect.stringMatching(/^patch configmap\/aegis-api-config: restore data\.config\.yaml to its text before run /),
      'rolling restart of deployment/aegis-api, so its pods read the new settings',
      expect.stringMatching(/^wait up to 5m for the rollout/),
    ]);
    // The batch size was not in the file: batch-size appended it, and the revert takes exactly that out again.
    expect(plan.steps[0]?.action.split('\n').filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l))).toEqual(['-processing:', '-  batch_size: 2500']);
    expect(sandbox.configYaml()).not.toBe(before);

    const applied = await sandbox.run('fix', 'revert', '--yes', '-o', 'json');
    expect(applied.code).toBe(0);
    expect(sandbox.configYaml()).toBe(before);
    const document = JSON.parse(applied.stdout) as { command: string; result: { verification: { summary: string } } };
    expect(document.command).toBe('fix revert');
    expect(document.result.verification.summary).toMatch(/replicas updated.*memory-usage/);
    expect((await sandbox.list()).mitigations).toEqual([]);
  });

  it('on a terminal in a production namespace, asks to type its name; the dry run names the run it would undo', async () => {
    const sandbox = await start('oom');
    expect((await sandbox.run('fix', 'scale', '--by', '1', '--yes')).code).toBe(0);
    const [scale] = (await sandbox.list()).mitigations;
    const dryRun = await sandbox.run('fix', 'revert', '--dry-run');
    expect(dryRun.stdout).toContain(`To apply this plan: aegis-ir fix revert ${scale?.run}`);
    expect(dryRun.stdout).toContain('note: the mitigation goes: make sure what it covered for is over first (aegis-ir triage)');
    const asked: string[] = [];
    const typing = (answer: string) => ({ confirm: () => Promise.reject(new Error('not asked')), input: async (question: string) => (asked.push(question), answer) });
    const declined = await runCaptured(['fix', 'revert'], { env: sandbox.env, prompter: typing('no'), stdinIsTTY: true });
    expect(declined.code).toBe(130);
    expect(asked[0]).toMatch(/is production\. revert run .* Type "aegis" to apply:$/);
    expect(sandbox.hpa().spec.minReplicas).toBe(4);
    const typed = await runCaptured(['fix', 'revert'], { env: sandbox.env, prompter: typing('aegis'), stdinIsTTY: true });
    expect(typed.code).toBe(0);
    expect(sandbox.hpa().spec.minReplicas).toBe(3);
  });

  it('undoes a rollback: the pod template of the revision it left, and its annotations, back', async () => {
    const sandbox = await start('crashloop-after-deploy');
    const deployment = () => sandbox.store.require(DEPLOYMENT, 'aegis', 'aegis-api') as KubeObject & { spec: { template: { spec: { containers: Array<{ image: string }> } } } };
    const image = () => deployment().spec.template.spec.containers[0]?.image;
    const annotations = () => ({ ...deployment().metadata.annotations });
    const before = annotations();
    expect((await sandbox.run('fix', 'rollback', '--yes')).code).toBe(0);
    expect(image()).toBe('registry.example.com/aegis/api:2.4.0');
    expect(annotations()['aegis-ir.dev/rolled-back-from']).toMatch(/^revision \d+/);
    expect(annotations()['kubernetes.io/change-cause']).not.toBe(before['kubernetes.io/change-cause']);
    // 2.4.1 is the release that crash-loops: its rollout never completes, so the wait gives up and says so (exit 6).
    const run = await sandbox.run('fix', 'revert', '--yes', '--rollout-timeout', '1s', '-o', 'json');
    expect(image()).toBe('registry.example.com/aegis/api:2.4.1');
    // The rollback's own annotations are given back: no rolled-back-from, and 2.4.1's change-cause again.
    expect(annotations()['aegis-ir.dev/rolled-back-from']).toBeUndefined();
    expect(annotations()['kubernetes.io/change-cause']).toBe(before['kubernetes.io/change-cause']);
    expect(run.code).toBe(6);
    const steps = (JSON.parse(run.stdout) as { result: { steps: Array<{ status: string; detail: string }> } }).result.steps;
    expect(steps.map((s) => s.status)).toEqual(['done', 'failed']);
    expect(steps[1]?.detail).toMatch(/^not done after 1s/);
  });

  it('a restart since is no change of what the mitigation wrote; a newer change of the same value is', async () => {
    const sandbox = await start('oom');
    expect((await sandbox.run('fix', 'memory-limit', '--factor', '1.5', '--yes')).code).toBe(0);
    const [memory] = (await sandbox.list()).mitigations;
    // The batch-size fix restarts the deployment: a new restartedAt in the very pod template the limit is in.
    expect((await sandbox.run('fix', 'batch-size', '--to', '2500', '--yes')).code).toBe(0);
    expect((await sandbox.run('fix', 'memory-limit', '--to', '1Gi', '--yes')).code).toBe(0);
    const refused = await sandbox.run('fix', 'revert', memory?.run ?? '', '--yes');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/set "768Mi", now "1024Mi"/);
    const [, newest] = (await sandbox.list()).mitigations.filter((m) => m.remediation === 'memory-limit').reverse();
    expect(refused.stderr).toContain(`changed it since: revert the newer mitigations first, newest first: aegis-ir fix revert ${newest?.run}`);
    // Newest first, as the refusal's hint says: then the older one goes through.
    expect((await sandbox.run('fix', 'revert', '--yes')).code).toBe(0);
    expect(sandbox.container()?.resources?.limits?.memory).toBe('768Mi');
    expect((await sandbox.run('fix', 'revert', memory?.run ?? '', '--yes')).code).toBe(0);
    expect(sandbox.container()?.resources?.limits?.memory).toBe('512Mi');
    expect((await sandbox.list()).mitigations.map((m) => m.remediation)).toEqual(['batch-size']);
  });

  it("is refused while another operator holds the ConfigMap's lock, naming them; nothing changes", async () => {
    const sandbox = await start('oom');
    expect((await sandbox.run('fix', 'batch-size', '--to', '2500', '--yes')).code).toBe(0);
    const now = new Date().toISOString().replace('Z', '000Z');
    sandbox.store.create(LEASE, {
      metadata: { name: 'aegis-ir-fix-configmap-aegis-api-config', namespace: 'aegis' },
      spec: { holderIdentity: 'alice@laptop', leaseDurationSeconds: 600, acquireTime: now, renewTime: now },
    });
    const edited = sandbox.configYaml();
    const run = await sandbox.run('fix', 'revert', '--yes');
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('lock held by alice@laptop');
    expect(sandbox.configYaml()).toBe(edited);
  });

  it('gives an HPA its minReplicas back, by the plan reviewed and saved', async () => {
    const sandbox = await start('oom');
    expect((await sandbox.run('fix', 'scale', '--by', '1', '--yes')).code).toBe(0);
    expect(sandbox.hpa().spec.minReplicas).toBe(4);
    const saved = join(sandbox.dir, 'revert-plan.json');
    expect((await sandbox.run('fix', 'revert', '--dry-run', '--save-plan', saved)).code).toBe(0);
    // A newer mitigation since is not what the saved plan reverts.
    expect((await sandbox.run('fix', 'memory-limit', '--factor', '1.5', '--yes')).code).toBe(0);
    const run = await sandbox.run('fix', 'revert', '--plan', saved, '--yes', '-o', 'json');
    expect(run.code).toBe(0);
    expect(sandbox.hpa().spec.minReplicas).toBe(3);
    expect(sandbox.container()?.resources?.limits?.memory).toBe('768Mi');
  });

  it('refuses with exit 5 when the object changed since, showing what differs, and changes nothing', async () => {
    const sandbox = await start('oom');
    expect((await sandbox.run('fix', 'memory-limit', '--factor', '1.5', '--yes')).code).toBe(0);
    // Someone raises it again by hand.
    const deployment = sandbox.store.require(DEPLOYMENT, 'aegis', 'aegis-api') as KubeObject & { spec: { template: { spec: { containers: Array<{ name: string; resources: { limits: Record<string, string> } }> } } } };
    const edited = structuredClone(deployment);
    const app = edited.spec.template.spec.containers.find((c) => c.name === 'aegis-api');
    if (app) app.resources.limits.memory = '1Gi';
    sandbox.store.update(DEPLOYMENT, edited);
    const version = sandbox.store.require(DEPLOYMENT, 'aegis', 'aegis-api').metadata.resourceVersion;
    const run = await sandbox.run('fix', 'revert', '--yes');
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/deployment\/aegis-api changed since run \S+ \(fix memory-limit, [^)]+ ago\); reverting would overwrite that change, so nothing was changed/);
    expect(run.stderr).toMatch(/\/spec\/template\/spec\/containers\/\d\/resources\/limits\/memory: run \S+ set "768Mi", now "1Gi"/);
    expect(sandbox.store.require(DEPLOYMENT, 'aegis', 'aegis-api').metadata.resourceVersion).toBe(version);
    expect(sandbox.container()?.resources?.limits?.memory).toBe('1Gi');
    const refusal = readAuditLog(sandbox.audit).filter((r) => r.remediation === 'revert').map((r) => r.event);
    expect(refusal).toEqual(['refused']);
  });

  it('refuses a ConfigMap edited since, with the lines that differ', async () => {
    const sandbox = await start('oom');
    expect((await sandbox.run('fix', 'batch-size', '--to', '2500', '--yes')).code).toBe(0);
    const map = structuredClone(sandbox.store.require(CONFIG_MAP, 'aegis', 'aegis-api-config')) as KubeObject & { data: Record<string, string> };
    map.data['config.yaml'] = (map.data['config.yaml'] ?? '').replace('batch_size: 2500', 'batch_size: 1000');
    sandbox.store.update(CONFIG_MAP, map);
    const edited = sandbox.configYaml();
    const run = await sandbox.run('fix', 'revert', '--yes');
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('configmap/aegis-api-config changed since run');
    expect(run.stderr).toMatch(/^-.*batch_size: 1000/m);
    expect(run.stderr).toMatch(/^\+.*batch_size: 2500/m);
    expect(sandbox.configYaml()).toBe(edited);
  });

  it('names an unknown run id, with the closest one', async () => {
    const sandbox = await start('oom');
    expect((await sandbox.run('fix', 'scale', '--by', '1', '--yes')).code).toBe(0);
    const [scale] = (await sandbox.list()).mitigations;
    const typo = `${scale?.run.slice(0, -1)}x`;
    const run = await sandbox.run('fix', 'revert', typo, '--yes');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`unknown run "${typo}" in ${sandbox.audit} (did you mean "${scale?.run}"?)`);
    expect(run.stderr).toContain('try: aegis-ir fix revert --list');
    // A unique start of the id is enough.
    expect((await sandbox.run('fix', 'revert', scale?.run.slice(0, 8) ?? '', '--dry-run')).code).toBe(0);
  });
});
