import type { V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planEnforceLimits } from '../../src/remediations/enforce-limits.js';
import { DEPLOYMENT } from '../../src/sandbox/kube-simulator/resources.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { runCaptured } from '../helpers/cli.js';

const deployment = (containers: Array<{ name: string; resources?: object }>): V1Deployment => ({
  metadata: { name: 'aegis-api', uid: 'u1' },
  spec: { selector: {}, template: { spec: { containers: containers.map((c) => ({ image: 'x', ...c })) } } },
});

describe('fix enforce-limits plan', () => {
  it('gives each container without a limit 1.5× its request, rounded up to Mi, and leaves the others alone', () => {
    const plan = planEnforceLimits(
      deployment([
        { name: 'aegis-api', resources: { requests: { memory: '256Mi' }, limits: { memory: '512Mi' } } },
        { name: 'log-shipper', resources: { requests: { memory: '65000Ki' } } },
        { name: 'istio-proxy', resources: {} },
      ]),
      { memory: null, container: null, rolloutTimeoutMs: 1000 },
    );
    // 1.5 × 65000 KiB = 95.2 MiB → 96Mi.
    expect(plan.changes[0]?.patch.body).toEqual({ spec: { template: { spec: { containers: [{ name: 'log-shipper', resources: { limits: { memory: '96Mi' } } }] } } } });
    expect(plan.notes[0]).toBe('container istio-proxy has neither a memory limit nor a request to derive one from; pass --memory QUANTITY --container istio-proxy');
  });

  it('takes --memory, refuses one below the request, and has nothing to do when every container has a limit', () => {
    const unlimited = deployment([{ name: 'log-shipper', resources: { requests: { memory: '64Mi' } } }]);
    expect(planEnforceLimits(unlimited, { memory: 200 * 1024 ** 2, container: null, rolloutTimeoutMs: 1 }).summary).toBe('set a memory limit on log-shipper (200Mi) in deployment/aegis-api');
    expect(() => planEnforceLimits(unlimited, { memory: 32 * 1024 ** 2, container: null, rolloutTimeoutMs: 1 })).toThrow(/below container log-shipper's memory request \(64Mi\)/);
    expect(planEnforceLimits(deployment([{ name: 'a', resources: { limits: { memory: '1Gi' } } }]), { memory: null, container: null, rolloutTimeoutMs: 1 }).changes).toEqual([]);
  });
});

describe('fix enforce-limits on the memory-leak drill', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox('memory-leak');
  });
  afterAll(() => sandbox.close());

  it('shows the server-side dry run as a diff, changes nothing, then applies it with --yes', async () => {
    const env = { HOME: sandbox.dir, ...sandbox.env };
    const before = sandbox.kube.store.get(DEPLOYMENT, 'aegis', 'aegis-api')?.metadata.resourceVersion;
    const dry = await runCaptured(['fix', 'enforce-limits', '--dry-run'], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('+ spec.template.spec.containers[log-shipper].resources.limits.memory: 96Mi');
    expect(dry.stdout).toContain('(after, server-side dry run)');
    expect(sandbox.kube.store.get(DEPLOYMENT, 'aegis', 'aegis-api')?.metadata.resourceVersion).toBe(before);
    const applied = await runCaptured(['fix', 'enforce-limits', '--yes', '--rollout-timeout', '30s'], { env });
    expect(applied.code).toBe(0);
    const template = (sandbox.kube.store.get(DEPLOYMENT, 'aegis', 'aegis-api')?.['spec'] as { template: { spec: { containers: Array<{ name: string; resources: { limits?: { memory?: string } } }> } } }).template;
    expect(template.spec.containers.find((c) => c.name === 'log-shipper')?.resources.limits?.memory).toBe('96Mi');
    const again = await runCaptured(['fix', 'enforce-limits', '--dry-run'], { env });
    expect(again.stdout).toContain('has a memory limit: nothing to do');
  });
});
