import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../helpers/cli.js';
import { simulatedCluster, type SimulatedCluster } from '../helpers/simulator.js';
import { startPagerDutySimulator, type PagerDutySimulator } from '../../src/sandbox/pagerduty-simulator/server.js';

describe('triage runs and remediations while an incident is open', () => {
  let cluster: SimulatedCluster;
  let pagerduty: PagerDutySimulator;
  let env: Record<string, string>;
  let audit: string;
  beforeAll(async () => {
    [cluster, pagerduty] = await Promise.all([simulatedCluster('healthy'), startPagerDutySimulator()]);
    const dir = mkdtempSync(join(tmpdir(), 'aegis-timeline-'));
    audit = join(dir, 'audit.jsonl');
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `notify: { pagerduty: { eventsUrl: "${pagerduty.eventsUrl}" } }\n`);
    env = {
      AEGIS_IR_CONFIG: config,
      HOME: '/nonexistent',
      XDG_STATE_HOME: dir,
      KUBECONFIG: cluster.kubeconfig,
      AEGIS_IR_AUDIT_LOG: audit,
      AEGIS_IR_PAGERDUTY_ROUTING_KEY: pagerduty.routingKey,
    };
  });
  afterAll(async () => Promise.all([cluster?.close(), pagerduty?.close()]));

  const records = () => readFileSync(audit, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

  it('carry its id in their audit records, and each applied remediation sends PagerDuty a change event', async () => {
    const cli = (...argv: string[]) => runCaptured(argv, { env });
    // Before any incident, triage writes nothing to the audit log.
    expect((await cli('triage')).code).toBe(0);
    const opened = await cli('incident', 'open', '--sev', 'SEV2', '--title', 'Capacity', '-o', 'json');
    expect(opened.code, opened.stderr).toBe(0);
    const id = (JSON.parse(opened.stdout) as { incidents: Array<{ id: string }> }).incidents[0]?.id;
    expect((await cli('triage')).code).toBe(0);
    const fix = await cli('fix', 'scale', '--replicas', '4', '--yes');
    expect(fix.code, fix.stderr).toBe(0);
    const all = records();
    expect(all.find((r) => r.event === 'verdict')).toMatchObject({ incident: id, command: 'triage', severity: null });
    const fixRecords = all.filter((r) => r.remediation === 'scale');
    expect(fixRecords.length).toBeGreaterThan(2);
    for (const r of fixRecords) expect(r.incident).toBe(id);
    expect(pagerduty.changes).toHaveLength(1);
    expect(pagerduty.changes[0]?.summary).toContain(`${id}: fix scale applied`);
    expect(readFileSync(audit, 'utf8')).not.toContain(pagerduty.routingKey);
  });
});
