import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { incidentJournal, readAuditLog, type AuditRecord } from '../../src/remediations/audit.js';

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
