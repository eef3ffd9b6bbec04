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
    // Before any incident, triage journals its verdict under no incident.
    expect((await cli('triage')).code).toBe(0);
    expect(records()).toEqual([expect.objectContaining({ event: 'verdict', command: 'triage', severity: null })]);
    expect(records()[0]).not.toHaveProperty('incident');
    const opened = await cli('incident', 'open', '--sev', 'SEV2', '--title', 'Capacity', '-o', 'json');
    expect(opened.code, opened.stderr).toBe(0);
    const id = (JSON.parse(opened.stdout) as { incidents: Array<{ id: string }> }).incidents[0]?.id;
    expect((await cli('triage')).code).toBe(0);
    const fix = await cli('fix', 'scale', '--replicas', '4', '--yes');
    expect(fix.code, fix.stderr).toBe(0);
    const all = records();
    expect(all.filter((r) => r.event === 'verdict')[1]).toMatchObject({ incident: id, command: 'triage', severity: null });
    const fixRecords = all.filter((r) => r.remediation === 'scale');
    expect(fixRecords.length).toBeGreaterThan(2);
    for (const r of fixRecords) expect(r.incident).toBe(id);
    expect(pagerduty.changes).toHaveLength(1);
    expect(pagerduty.changes[0]?.summary).toContain(`${id}: fix scale applied`);
    expect(readFileSync(audit, 'utf8')).not.toContain(pagerduty.routingKey);
  });

  it('journal every incident event and delivery with its time, operator, cluster and id, and each verdict with its findings and impact', async () => {
    const crashing = await simulatedCluster('crashloop-after-deploy');
    try {
      const cli = (...argv: string[]) => runCaptured(argv, { env: { ...env, KUBECONFIG: crashing.kubeconfig, USER: 'oncall' } });
      const opened = await cli('incident', 'open', '--from-triage', '-o', 'json');
      expect(opened.code, opened.stderr).toBe(0);
      const id = (JSON.parse(opened.stdout) as { incidents: Array<{ id: string }> }).incidents[0]?.id ?? '';
      expect((await cli('incident', 'update', id, 'Rolling back', '--status', 'identified')).code).toBe(0);
      expect((await cli('incident', 'escalate', id, '--to', 'Engineering Manager')).code).toBe(0);
      const carries = (r: Record<string, unknown>) => [r.incident].flat().includes(id);
      // Oldest first: the verdict `--from-triage` read is journalled once the incident has its id, at the time it was reached.
      const mine = records().filter(carries).sort((a, b) => Date.parse(String(a.time)) - Date.parse(String(b.time)));
      expect(mine.map((r) => r.event)).toEqual(['verdict', 'incident-opened', 'delivery', 'incident-updated', 'incident-escalated']);
      for (const r of mine) {
        expect(r).toMatchObject({ operator: expect.stringMatching(/^oncall@/), context: expect.any(String), cluster: expect.stringMatching(/^https?:\/\/127\.0\.0\.1:\d+$/) });
        expect(Date.parse(String(r.time))).not.toBeNaN();
      }
      const [verdict, openedRecord, delivery] = mine;
      expect(verdict).toMatchObject({ command: 'triage', severity: 'SEV2', impact: { startedAt: expect.any(Object) } });
      const deciding = (verdict?.findings as Array<{ code: string; severity: string | null }>).filter((f) => f.severity === 'SEV2');
      expect(deciding.length).toBeGreaterThan(0);
      expect(openedRecord).toMatchObject({ severity: 'SEV2', detectedBy: 'aegis-ir', findings: deciding.map((f) => expect.stringContaining(f.code)) });
      expect(delivery).toMatchObject({ service: 'pagerduty', action: 'trigger', outcome: 'delivered' });
      expect((await cli('incident', 'resolve', id, '--summary', 'Rolled back')).code).toBe(0);
      expect(records().filter(carries).map((r) => r.event).slice(-2)).toEqual(['incident-resolved', 'delivery']);
      expect(records().filter(carries).at(-2)).toMatchObject({ summary: 'Rolled back' });
    } finally {
      await crashing.close();
    }
  });
});
