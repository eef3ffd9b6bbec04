import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { incidentClock } from '../../src/incident/clock.js';
import { postmortemOf, type PostmortemInput } from '../../src/incident/postmortem.js';
import { incidentSchema } from '../../src/incident/record.js';
import { alertingRules } from '../../src/prometheus/rules.js';
import { incidentJournal, readAuditLog } from '../../src/remediations/audit.js';
import { postmortemDocument, postmortemMarkdown, POSTMORTEM_WIDTH } from '../../src/render/postmortem.js';
import { testConfig } from '../helpers/config.js';

/**
 * A recorded incident — a SEV2 crash loop after a deploy, declared from triage, rolled back, escalated by
 * hand, resolved — and its journal, with records before and after its window and two of another incident open
 * at the same time (a delivery, a triage confirming it restored) that are not its story. `expected.md` was written
 * from them by reading what each section must say, not from the program's output.
 */
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'postmortem');
const incident = incidentSchema.parse(JSON.parse(readFileSync(join(FIXTURES, 'incident.json'), 'utf8')));
const log = readAuditLog(join(FIXTURES, 'journal.jsonl'));

function input(journal = incidentJournal(log, incident)): PostmortemInput {
  return {
    incident,
    journal,
    clock: incidentClock(incident, new Date('2026-12-02T09:00:00Z'), { updateEveryMs: 15 * 60_000, contacts: {} }),
    mitigations: [{ run: 'run-rollback', remediation: 'rollback', target: 'deployment aegis/aegis-api', appliedAt: '2026-12-01T03:27:08.000Z', revertCommand: 'aegis-ir fix revert run-rollback' }],
    rules: alertingRules(testConfig()).groups.flatMap((g) => g.rules),
  };
}

describe('postmortem of a recorded incident', () => {
  it('matches the draft derived by hand from the record and the journal', () => {
    expect(postmortemMarkdown(postmortemOf(input()))).toBe(readFileSync(join(FIXTURES, 'expected.md'), 'utf8'));
  });

  it('is the same for the same record and journal, whatever order the journal lines come in', () => {
    const journal = incidentJournal(log, incident);
    const shuffled = [...journal.slice(5), ...journal.slice(0, 5).reverse()];
    expect(postmortemMarkdown(postmortemOf(input(shuffled)))).toBe(postmortemMarkdown(postmortemOf(input())));
  });

  it('holds the same in its JSON document: times, durations, timeline, checklist, root cause and due dates', () => {
    const document = JSON.parse(JSON.stringify(postmortemDocument(postmortemOf(input())))) as Record<string, unknown> & ReturnType<typeof postmortemOf>;
    expect(document).toMatchObject({
      schemaVersion: 1,
      command: 'postmortem',
      id: 'INC-20261201-01',
      severity: 'SEV2',
      times: { startedAt: '2026-12-01T03:02:00.000Z', detectedAt: '2026-12-01T03:10:00.000Z', mitigatedAt: '2026-12-01T03:29:00.000Z', resolvedAt: '2026-12-01T03:52:00.000Z' },
      durationsSeconds: { toDetect: 480, toMitigate: 1620, toResolve: 3000 },
      detection: { source: 'aegis-ir' },
      checklist: { dueAt: '2026-12-02T03:52:00.000Z' },
      rootCause: { deciding: ['AEG-1002 3 of 3 pods are failing to run (CrashLoopBackOff)'] },
      monitoringGaps: [{ rule: 'AegisErrorRateAboveObjective', code: 'AEG-3003', seenAt: '2026-12-01T03:05:00.000Z' }],
      restored: { at: '2026-12-01T03:50:00.000Z', confirmed: true },
      dueAt: '2026-12-06T03:52:00.000Z',
    });
    expect(document.timeline).toHaveLength(20);
    expect(document.timeline.map((e) => e.at)).toEqual([...document.timeline.map((e) => e.at)].sort());
    expect(document.checklist.items.map((i) => [i.id, i.done])).toEqual([
      ['document-timeline', true],
      ['confirm-restored', true],
      ['remove-mitigations', false],
      ['update-monitoring', false],
    ]);
    expect(document.checklist.items[2]?.details[0]).toContain('`aegis-ir fix revert run-rollback`');
  });

  it('names roles and systems, never the people who worked it', () => {
    const markdown = postmortemMarkdown(postmortemOf(input()));
    const json = JSON.stringify(postmortemDocument(postmortemOf(input())));
    for (const person of ['alice', 'bob', 'drill-commander']) {
      expect(markdown).not.toContain(person);
      expect(json).not.toContain(person);
    }
  });

  it('sees no monitoring gap when an alert detected it, and no restoration confirmed when no triage confirmed it', () => {
    const paged = postmortemOf({ ...input(), incident: { ...incident, detectedBy: 'pagerduty' }, journal: incidentJournal(log, incident).filter((r) => !r.confirms) });
    expect(paged.monitoringGaps).toEqual([]);
    expect(paged.checklist.items.find((i) => i.id === 'update-monitoring')).toMatchObject({ done: true, text: 'Update monitoring: no gap found' });
    expect(paged.restored).toBeNull();
    expect(paged.checklist.items.find((i) => i.id === 'confirm-restored')).toMatchObject({ done: false, text: expect.stringContaining('run `aegis-ir triage`') });
    expect(paged.detection.text).toBe('a PagerDuty alert');
  });

  it("puts resolve's restoring triage before the resolution when both fall in the same millisecond", () => {
    // `incident resolve` journals its triage, then takes the resolution's time: on a fast run, the same instant.
    const resolvedAt = incident.resolvedAt ?? '';
    const journal = incidentJournal(log, incident).map((r) => (r.confirms === incident.id && r.time < resolvedAt ? { ...r, time: resolvedAt } : r));
    const texts = postmortemOf(input(journal)).timeline.map((e) => e.text);
    const confirming = texts.findIndex((t) => t.includes('confirming service is restored'));
    expect(confirming).toBeGreaterThan(0);
    expect(confirming).toBe(texts.findIndex((t) => t.startsWith('resolved')) - 1);
  });
});

describe('the post-mortem Markdown', () => {
  const markdown = postmortemMarkdown(postmortemOf(input()));
  const tokens = new MarkdownIt('commonmark').enable('table').parse(markdown, {});

  it('parses as CommonMark with tables: every section a heading, the times, timeline and action items as tables', () => {
    const headings = tokens.flatMap((t, i) => (t.type === 'heading_open' ? [`${t.tag} ${tokens[i + 1]?.content ?? ''}`] : []));
    expect(headings).toEqual([
      'h1 Post-mortem: INC-20261201-01 3 of 3 pods are failing to run (CrashLoopBackOff)',
      'h2 Summary',
      'h2 Times',
      'h2 Impact',
      'h2 How it was detected',
      'h2 Timeline (UTC)',
      'h2 24-hour checklist (due 2026-12-02 03:52:00 UTC)',
      'h2 Root cause',
      'h2 Contributing factors',
      'h2 What went well',
      'h2 What went wrong',
      'h2 Action items',
      'h2 Post-mortem review',
    ]);
    const tables = tokens.filter((t) => t.type === 'table_open').map((open) => {
      const start = tokens.indexOf(open);
      const end = tokens.findIndex((t, i) => i > start && t.type === 'table_close');
      return tokens.slice(start, end).filter((t) => t.type === 'tr_open').length - 1;
    });
    // Body rows: 4 moments, 20 timeline entries, 5 action items.
    expect(tables).toEqual([4, 20, 5]);
    expect(tokens.some((t) => t.type === 'html_block' || t.type === 'html_inline')).toBe(false);
  });

  it('shows text from the record as written, not as markup', () => {
    const html = new MarkdownIt('commonmark').enable('table').render(markdown);
    expect(html).toContain('watching the *error rate*');
    expect(html).not.toContain('<em>error rate</em>');
    expect(html).toContain('<code>aegis-ir fix revert run-rollback</code>');
  });

  it('keeps a wrapped line that starts with a list marker, a number or a hash inside its paragraph', () => {
    const md = new MarkdownIt('commonmark').enable('table');
    const tricky = Array.from({ length: 40 }, (_, i) => ['-', '1.', '#', '+', '2)', '==='][i % 6]).join(' word ');
    const html = md.render(postmortemMarkdown(postmortemOf({ ...input(), incident: { ...incident, impact: { ...incident.impact, summary: tricky } } })));
    const baseline = md.render(markdown);
    const count = (text: string, tag: string) => text.split(tag).length - 1;
    expect(count(html, '<li>')).toBe(count(baseline, '<li>'));
    expect(count(html, '<h1>') + count(html, '<ol')).toBe(1);
    expect(html).toContain('<li>- word 1. word # word + word 2) word ===');
  });

  it('wraps prose at 100 columns; only table rows run longer', () => {
    const long = markdown.split('\n').filter((line) => line.length > POSTMORTEM_WIDTH && !line.startsWith('|'));
    expect(long).toEqual([]);
  });
});
