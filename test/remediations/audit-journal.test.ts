import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { incidentJournal, mitigationsInEffect, readAuditLog, type AuditRecord } from '../../src/remediations/audit.js';

const dir = mkdtempSync(join(tmpdir(), 'aegis-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (time: string, event: string, incident?: string | string[]): AuditRecord => ({ time, run: 'r', operator: 'op', event, ...(incident ? { incident } : {}) });

describe('the incident journal', () => {
  const log = [
    record('2026-12-01T02:50:00.000Z', 'verdict'),
    record('2026-12-01T03:05:00.000Z', 'verdict'),
    record('2026-12-01T03:20:00.000Z', 'step', 'INC-20261201-01'),
    record('2026-12-01T03:30:00.000Z', 'plan', ['INC-20261201-02', 'INC-20261201-01']),
    record('2026-12-01T05:00:00.000Z', 'verify', 'INC-20261201-01'),
    record('2026-12-01T05:10:00.000Z', 'verdict'),
  ];
  const incident = { id: 'INC-20261201-01', startedAt: '2026-12-01T03:00:00.000Z', resolvedAt: '2026-12-01T04:00:00.000Z' };

  it('selects the records from the start to the resolution and every record carrying the id', () => {
    expect(incidentJournal(log, incident).map((r) => `${r.time.slice(11, 16)} ${r.event}`)).toEqual(['03:05 verdict', '03:20 step', '03:30 plan', '05:00 verify']);
  });

  it('runs to now while the incident is open', () => {
    expect(incidentJournal(log, { ...incident, resolvedAt: null }).map((r) => r.time.slice(11, 16))).toEqual(['03:05', '03:20', '03:30', '05:00', '05:10']);
  });

  it('reads the log, leaving out a last line cut short and failing on a broken line inside it', () => {
    const path = join(dir, 'audit.jsonl');
    writeFileSync(path, `${log.map((r) => JSON.stringify(r)).join('\n')}\n{"time":"2026-12-01T05:1`);
    expect(readAuditLog(path)).toEqual(log);
    writeFileSync(path, `${JSON.stringify(log[0])}\nnot json\n${JSON.stringify(log[1])}\n`);
    expect(() => readAuditLog(path)).toThrow(/line 2/);
    expect(readAuditLog(join(dir, 'none.jsonl'))).toEqual([]);
  });
});

describe('the mitigations still in effect', () => {
  const base = { operator: 'op', target: 'deployment aegis/aegis-api', cluster: 'https://127.0.0.1:6443', context: 'sandbox' };
  const at = (minute: number) => `2026-12-01T03:${String(minute).padStart(2, '0')}:00.000Z`;
  const scale = { kind: 'horizontalpodautoscaler', namespace: 'aegis', name: 'aegis-api', parts: { '/spec/minReplicas': { before: 3, after: 4 } } };
  const stamp = { kind: 'deployment', namespace: 'aegis', name: 'aegis-api', parts: { '/spec/template': { before: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'a' } } }, after: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'b' } } } } } };
  const run = (id: string, remediation: string, minute: number, outcome: Record<string, unknown>, extra: Record<string, unknown> = {}): AuditRecord[] => [
    { time: at(minute), run: id, remediation, event: 'plan', dryRun: false, summary: `${remediation} plan`, ...base, ...extra },
    { time: at(minute), run: id, remediation, event: 'outcome', description: `${remediation} step`, ...outcome, ...base, ...extra },
    { time: at(minute + 1), run: id, remediation, event: 'verify', summary: 'pod-health: ok', ...base, ...extra },
  ];
  const log = [
    ...run('scale-1', 'scale', 1, { status: 'done', replaced: scale }, { incident: 'INC-20261201-01' }),
    ...run('restart-1', 'restart', 2, { status: 'done', replaced: stamp }),
    ...run('failed-1', 'scale', 3, { status: 'failed', detail: 'refused' }),
    ...run('scale-2', 'scale', 4, { status: 'done', replaced: scale }),
    ...run('scale-3', 'scale', 5, { status: 'done', replaced: scale }),
    ...run('revert-1', 'revert', 6, { status: 'done', replaced: { ...scale, parts: { '/spec/minReplicas': { before: 4, after: 3 } } } }, { reverts: 'scale-2' }),
  ];

  it('lists applied changes newest first, without restarts, failures, reverts and what they undid', () => {
    const now = new Date(at(30));
    expect(mitigationsInEffect(log, now).map((m) => m.run)).toEqual(['scale-3', 'scale-1']);
    expect(mitigationsInEffect(log, now)[1]).toMatchObject({
      remediation: 'scale',
      appliedAt: at(1),
      ageMs: 29 * 60_000,
      incidents: ['INC-20261201-01'],
      summary: 'scale plan',
      changes: ['scale step'],
      verification: 'pod-health: ok',
      revertCommand: 'aegis-ir fix revert scale-1',
      context: 'sandbox',
    });
  });

  it('keeps a mitigation whose revert did not get to apply', () => {
    const failed = log.map((r) => (r.run === 'revert-1' && r.event === 'outcome' ? { ...r, status: 'failed' } : r));
    expect(mitigationsInEffect(failed, new Date(at(30))).map((m) => m.run)).toEqual(['scale-3', 'scale-2', 'scale-1']);
  });
});
