import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_MAP } from '../../src/sandbox/kube-simulator/resources.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { runCaptured } from '../helpers/cli.js';

describe('fix batch-size on the memory-leak drill', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox('memory-leak');
  });
  afterAll(() => sandbox.close());
  const configYaml = () => (sandbox.kube.store.get(CONFIG_MAP, 'aegis', 'aegis-api-config')?.['data'] as Record<string, string>)['config.yaml'] ?? '';

  it('edits only the batch size line of the ConfigMap, keeping its comments, then rolls the deployment', async () => {
    const env = { HOME: sandbox.dir, ...sandbox.env };
    const before = configYaml();
    const dry = await runCaptured(['fix', 'batch-size', '--to', '2500', '--dry-run'], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('set the batch size in configmap/aegis-api-config from 5000 to 2500');
    expect(dry.stdout).toMatch(/-\s+batch_size: 5000 {3}# findings per worker batch/);
    expect(configYaml()).toBe(before);
    const applied = await runCaptured(['fix', 'batch-size', '--to', '2500', '--yes', '--rollout-timeout', '30s'], { env });
    expect(applied.code).toBe(0);
    expect(configYaml()).toBe(before.replace('batch_size: 5000', 'batch_size: 2500'));
  });
});
