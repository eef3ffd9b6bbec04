import { describe, expect, it } from 'vitest';
import { dueEscalations, incidentClock } from '../../src/incident/clock.js';
import { incidentText } from '../../src/incident/render.js';
import type { Incident } from '../../src/incident/record.js';
import type { Severity } from '../../src/core/severity.js';

const NOW = new Date('2026-12-01T04:00:00Z');
const settings = { updateEveryMs: 15 * 60_000, contacts: { 'On-Call': 'pagerduty', 'Engineering Manager': '@eng-manager' } };
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

function incident(severity: Severity, startedMinutesAgo: number, openedMinutesAgo: number, extra: Partial<Incident> = {}): Incident {
  return {
    schemaVersion: 1, id: 'INC-20261201-01', channel: '#incident-20261201-01', severity, title: 'API down', status: 'investigating',
    commander: null, startedAt: ago(startedMinutesAgo), openedAt: ago(openedMinutesAgo), resolvedAt: null, summary: null, detectedBy: null,
    customerFacing: false, security: false, impact: { summary: null, assessment: null }, findings: [], publicDraft: null,
    updates: [{ at: ago(openedMinutesAgo), message: 'declared', status: 'investigating', severity, public: false, by: 'a' }],
    escalations: [{ at: ago(openedMinutesAgo), to: 'On-Call', contact: 'pagerduty', reason: 'matrix', by: 'a' }],
    reminders: [], outbox: [], refs: { slackChannel: null, statuspageIncident: null }, revision: 0, ...extra,
  };
}

describe('the escalation clock', () => {
  it.each([
    ['SEV1', 10, ['On-Call'], 'Engineering Manager', 30],
    ['SEV1', 45, ['On-Call', 'Engineering Manager'], 'VP Engineering', 60],
    ['SEV1', 61, ['On-Call', 'Engineering Manager', 'VP Engineering'], null, null],
    ['SEV2', 45, ['On-Call', 'Tech Lead'], 'Engineering Manager', 60],
    ['SEV3', 45, ['On-Call', 'Tech Lead'], null, null],
    ['SEV4', 600, ['Assigned Engineer'], null, null],
  ] as const)('%s %i minutes in: engaged %j, next %s', (severity, minutes, engaged, next, nextAfter) => {
    const clock = incidentClock(incident(severity, minutes, 0), NOW, settings);
    expect(clock.engaged.map((l) => l.role)).toEqual(engaged);
    expect(clock.next?.role ?? null).toBe(next);
    if (nextAfter !== null) expect(clock.next?.at).toBe(ago(minutes - nextAfter));
  });

  it('counts a level brought in by hand as engaged, and moves on to the one after', () => {
    const manual = incident('SEV1', 5, 0, {
      escalations: [
        { at: ago(0), to: 'On-Call', contact: 'pagerduty', reason: 'matrix', by: 'a' },
        { at: ago(0), to: 'Engineering Manager', contact: '@eng-manager', reason: 'manual', by: 'a' },
      ],
    });
    const clock = incidentClock(manual, NOW, settings);
    expect(clock.engaged.map((l) => l.role)).toEqual(['On-Call', 'Engineering Manager']);
    expect(clock.next?.role).toBe('VP Engineering');
    expect(dueEscalations(manual, NOW, settings)).toEqual([]);
  });

  it('lists the levels whose time has come that the record has not escalated to', () => {
    expect(dueEscalations(incident('SEV1', 61, 50), NOW, settings).map((l) => l.role)).toEqual(['Engineering Manager', 'VP Engineering']);
    expect(dueEscalations(incident('SEV1', 61, 50, { resolvedAt: ago(1), status: 'resolved' }), NOW, settings)).toEqual([]);
  });

  it('meets the response time when declared within it of the start', () => {
    expect(incidentClock(incident('SEV1', 20, 6), NOW, settings)).toMatchObject({ responseMet: true, respondedAfterMs: 14 * 60_000 });
    expect(incidentClock(incident('SEV1', 20, 4), NOW, settings).responseMet).toBe(false);
    expect(incidentClock(incident('SEV3', 100, 0), NOW, settings).responseMet).toBe(true);
  });

  it('asks SEV1–2 for an update every 15 minutes from the latest one recorded', () => {
    const fresh = incidentClock(incident('SEV1', 45, 10), NOW, settings).update;
    expect(fresh).toMatchObject({ required: true, dueAt: ago(-5), overdue: false });
    const given = incident('SEV1', 45, 0);
    given.updates.push({ at: ago(20), message: 'on the call', status: 'identified', severity: 'SEV1', public: false, by: 'b' });
    expect(incidentClock(given, NOW, settings).update).toMatchObject({ lastAt: ago(20), dueAt: ago(5), overdue: true });
    expect(incidentClock(incident('SEV3', 45, 30), NOW, settings).update).toMatchObject({ required: false, overdue: false, dueAt: null });
  });
});

describe('incident status text', () => {
  const statusText = (startedMinutesAgo: number) => {
    const given = incident('SEV2', startedMinutesAgo, 0);
    const view = { command: 'incident status', incidents: [{ incident: given, clock: incidentClock(given, NOW, settings) }],
      delivery: { delivered: [], undelivered: [] }, headline: null, next: [] };
    return incidentText(view, { color: false, now: NOW, brief: false });
  };

  it('shows the time of day alone for a start today (UTC) and the date with it for one on an earlier day', () => {
    expect(statusText(40)).toContain('started:   03:20 UTC (40m ago)');
    expect(statusText(3 * 24 * 60 + 13)).toContain('started:   2026-11-28 03:47 UTC (3d ago)');
  });
});
