import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../helpers/cli.js';
import { simulatedCluster, type SimulatedCluster } from '../helpers/simulator.js';

describe('-l/--selector, --deployment, --container and --fail-on as people type them', () => {
  let cluster: SimulatedCluster;
  const triage = (...flags: string[]) =>
    runCaptured(['--kubeconfig', cluster.kubeconfig, 'triage', '-o', 'json', ...flags]).then((run) => ({
      ...run,
      document: JSON.parse(run.stdout) as { findings: { code: string; summary: string; evidence: Record<string, unknown> }[] },
    }));
  beforeAll(async () => {
    cluster = await simulatedCluster('healthy');
  });
  afterAll(() => cluster.close());

  it('accepts --fail-on in any case', async () => {
    const run = await triage('--fail-on', 'sev2');
    expect(run.code).toBe(0);
    const bad = await runCaptured(['triage', '--fail-on', 'sev9']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("argument 'sev9' is invalid. Expected one of SEV1, SEV2, SEV3, SEV4, never (in any case).");
  });

  it('looks at the Deployment and pods the flags name instead of the configured ones', async () => {
    const run = await triage('--deployment', 'billing', '-l', 'app=billing');
    expect(run.document.findings.map((f) => f.summary)).toContain('no deployment/billing in namespace aegis; deployments there: aegis-api');
    const bySelector = await triage('--selector', 'app=nothing-here');
    // The Deployment is there, but none of its pods match the selector given.
    expect(bySelector.document.findings.map((f) => f.summary)).toContain('no ready aegis-api pod (0 of 3 desired, 0 pod(s) exist): the API is down');
  });
});
