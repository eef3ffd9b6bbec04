import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { objectDiff } from '../../../src/remediations/workload-patch.js';
import { startKubeSimulator, type KubeObject, type KubeSimulator } from '../../../src/sandbox/kube-simulator/index.js';
import { DEPLOYMENT, HPA, REPLICA_SET, POD } from '../../../src/sandbox/kube-simulator/resources.js';
import { runCaptured } from '../../helpers/cli.js';
import { scenarioWith } from '../../sandbox/simulator-helpers.js';

interface FixDocument {
  plan: { summary: string; steps: Array<{ description: string; action: string }> };
  applied: boolean;
  result: { steps: Array<{ status: string }>; verification: { summary: string; findings: unknown[] } | null };
}

let sim: KubeSimulator | undefined;
let dir = '';
afterEach(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(scenario: Parameters<typeof startKubeSimulator>[0]['scenario']) {
  sim = await startKubeSimulator({ scenario });
  dir = mkdtempSync(join(tmpdir(), 'aegis-fix-'));
  await sim.writeKubeconfig(join(dir, 'kubeconfig'));
  const store = sim.store;
  return {
    fix: (...argv: string[]) =>
      runCaptured(['fix', ...argv, '--kubeconfig', join(dir, 'kubeconfig'), '-o', 'json'], { env: { HOME: dir } }),
    deployment: () => structuredClone(store.require(DEPLOYMENT, 'aegis', 'aegis-api')),
    hpa: () => structuredClone(store.require(HPA, 'aegis', 'aegis-api')),
    /** Every object's resourceVersion: equal snapshots mean nothing was written. */
    snapshot: () =>
      [DEPLOYMENT, HPA, REPLICA_SET, POD].flatMap((type) => store.list(type, 'aegis').map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`)),
  };
}

/** The changed-field lines of a diff, without its header and without what the deployment controller stamps. */
function changes(diff: string): string[] {
  return diff
    .split('\n')
    .slice(2)
    .filter((line) => !line.includes('deployment.kubernetes.io/revision'))
    .sort();
}

function expectExactly(plan: FixDocument['plan'], before: KubeObject, after: KubeObject, label: string): void {
  const planned = plan.steps[0]?.action ?? '';
  expect(changes(objectDiff(before, after, label))).toEqual(changes(planned));
  expect(changes(planned).length).toBeGreaterThan(0);
}

describe('fix rollback', () => {
  it('--dry-run shows the template diff and changes nothing', async () => {
    const sandbox = await start('crashloop-after-deploy');
    const before = sandbox.snapshot();
    const run = await sandbox.fix('rollback', '--dry-run');
    const document = JSON.parse(run.stdout) as FixDocument;
    expect(run.code).toBe(0);
    expect(document.applied).toBe(false);
    expect(document.plan.steps[0]?.action).toContain('- spec.template.spec.containers[aegis-api].image: registry.example.com/aegis/api:2.4.1');
    expect(document.plan.steps[0]?.action).toContain('+ spec.template.spec.containers[aegis-api].image: registry.example.com/aegis/api:2.4.0');
    expect(sandbox.snapshot()).toEqual(before);
  });

  it('--yes restores the previous pod template exactly as planned, records the revision left, and the pods heal', async () => {
    const sandbox = await start('crashloop-after-deploy');
    const before = sandbox.deployment();
    const run = await sandbox.fix('rollback', '--yes');
    const document = JSON.parse(run.stdout) as FixDocument;
    expect(run.code).toBe(0);
    expect(document.result.steps.map((s) => s.status)).toEqual(['done', 'done']);
    const after = sandbox.deployment();
    expectExactly(document.plan, before, after, 'deployment/aegis-api');
    expect(after.metadata.annotations?.['aegis-ir.dev/rolled-back-from']).toBe('revision 4 (deploy api v2.4.1)');
    expect(document.result.verification?.summary).toBe('4 of 4 replicas updated, 4 available; pod-health: ok');
  });

  it('refuses with exit 5, naming the missing right, when a SelfSubjectAccessReview is denied', async () => {
    const sandbox = await start(
      scenarioWith('crashloop-after-deploy', { rbac: { deny: [{ verb: 'patch', resource: 'deployments', group: 'apps', subresource: '' }] } }),
    );
    const before = sandbox.snapshot();
    const run = await sandbox.fix('rollback', '--yes');
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('not allowed to patch deployments.apps/aegis-api in namespace aegis');
    expect(sandbox.snapshot()).toEqual(before);
  });
});

describe('fix memory-limit', () => {
  it('raises exactly the container limit it planned', async () => {
    const sandbox = await start('oom');
    const before = sandbox.deployment();
    const run = await sandbox.fix('memory-limit', '--factor', '1.5', '--yes');
    const document = JSON.parse(run.stdout) as FixDocument;
    expect(run.code).toBe(0);
    expect(document.plan.summary).toBe('raise the memory limit of aegis-api/aegis-api from 512Mi to 768Mi');
    expectExactly(document.plan, before, sandbox.deployment(), 'deployment/aegis-api');
  });

  it('--dry-run changes nothing', async () => {
    const sandbox = await start('oom');
    const before = sandbox.snapshot();
    expect((await sandbox.fix('memory-limit', '--to', '1Gi', '--dry-run')).code).toBe(0);
    expect(sandbox.snapshot()).toEqual(before);
  });
});

describe('fix scale', () => {
  it('raises the minReplicas of the HPA that owns the deployment, and the deployment follows', async () => {
    const sandbox = await start('oom');
    const before = sandbox.hpa();
    const run = await sandbox.fix('scale', '--by', '1', '--yes');
    const document = JSON.parse(run.stdout) as FixDocument;
    expect(run.code).toBe(0);
    expectExactly(document.plan, before, sandbox.hpa(), 'horizontalpodautoscaler/aegis-api');
    expect(sandbox.deployment().spec).toMatchObject({ replicas: 4 });
  });

  it('a status update while the operator confirms is no change of plan', async () => {
    const sandbox = await start('oom');
    const store = sim?.store;
    const statusUpdates = () => {
      // The HPA controller writes status every sync, and a deployment's status follows its pods.
      for (const type of [HPA, DEPLOYMENT]) {
        const object = store?.require(type, 'aegis', 'aegis-api') as KubeObject & { status?: Record<string, unknown> };
        store?.update(type, { ...object, status: { ...object.status, conditions: [] } });
      }
    };
    // aegis is a production namespace: the operator types its name.
    const prompter = {
      confirm: () => Promise.reject(new Error('not asked')),
      input: async () => (statusUpdates(), 'aegis'),
    };
    const run = await runCaptured(['fix', 'scale', '--by', '1', '--kubeconfig', join(dir, 'kubeconfig'), '-o', 'json'], {
      env: { HOME: dir },
      prompter,
      stdinIsTTY: true,
    });
    expect(run.stderr).not.toContain('plan changed');
    expect(run.code).toBe(0);
    expect(sandbox.hpa().spec).toMatchObject({ minReplicas: 4 });
  });

  it('a spec change while the operator confirms is refused with exit 5, nothing applied', async () => {
    await start('oom');
    const store = sim?.store;
    const input = async () => {
      const hpa = store?.require(HPA, 'aegis', 'aegis-api') as KubeObject & { spec: Record<string, unknown> };
      store?.update(HPA, { ...hpa, spec: { ...hpa.spec, maxReplicas: 9 } });
      return 'aegis';
    };
    const run = await runCaptured(['fix', 'scale', '--by', '1', '--kubeconfig', join(dir, 'kubeconfig')], {
      env: { HOME: dir },
      prompter: { confirm: () => Promise.reject(new Error('not asked')), input },
      stdinIsTTY: true,
    });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('plan changed');
    expect(store?.require(HPA, 'aegis', 'aegis-api').spec).toMatchObject({ minReplicas: 3, maxReplicas: 9 });
  });

  it('is refused while another operator holds the deployment for a different remediation', async () => {
    const lease = { name: 'aegis-ir-fix-deployment-aegis-api', holder: 'alice@laptop', acquiredAt: new Date().toISOString(), durationSeconds: 600 };
    const sandbox = await start(scenarioWith('oom', { leases: [lease] }));
    const before = sandbox.snapshot();
    const run = await sandbox.fix('scale', '--by', '1', '--yes');
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('lock held by alice@laptop');
    expect(sandbox.snapshot()).toEqual(before);
  });

  it('refuses above the safety cap unless --max allows it', async () => {
    const sandbox = await start('oom');
    const before = sandbox.snapshot();
    const run = await sandbox.fix('scale', '--replicas', '40', '--yes');
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('more than the safety cap of 20');
    expect(sandbox.snapshot()).toEqual(before);
  });
});
