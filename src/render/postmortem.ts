import { impactSummary, type ImpactItem } from '../checks/impact.js';
import { formatPercent } from '../checks/prometheus/source.js';
import { spanOf, utc, type ChecklistItem, type Postmortem } from '../incident/postmortem.js';
import { SCHEMA_VERSION } from './report.js';
import { wrapItems } from './wrap.js';

/** Lines of prose wrap here; table rows and single long words (URLs, commands) may run longer. */
export const POSTMORTEM_WIDTH = 100;

/** The `-o json` document: schemaVersion 1, the draft as the Markdown shows it. */
export function postmortemDocument(postmortem: Postmortem): Record<string, unknown> {
  return { schemaVersion: SCHEMA_VERSION, command: 'postmortem', ...postmortem };
}

/**
 * The draft as CommonMark (with GitHub's tables): headings per section of the runbook's post-mortem,
 * the times and the timeline as tables, the checklist and the action items to fill in at the review.
 * Text that came from the systems or the operators is escaped, so it reads as written and never as markup.
 */
export function postmortemMarkdown(p: Postmortem): string {
  const out: string[] = [];
  const heading = (level: number, text: string) => out.push(`${'#'.repeat(level)} ${inline(text)}`, '');
  const paragraph = (text: string) => out.push(...wrapLine(inline(text), ''), '');
  const list = (items: readonly string[], empty: string) => {
    out.push(...(items.length ? items : [empty]).flatMap((item) => wrapLine(inline(item), '- ')), '');
  };

  heading(1, `Post-mortem: ${p.id} ${p.title}`);
  paragraph(
    `${p.severity} · ${p.channel} · ${p.resolved ? 'resolved' : 'not resolved yet'}. A blameless draft written from the incident record and ` +
      'the journal: it names roles and systems, not people. Fill in what is in italics at the review.',
  );

  heading(2, 'Summary');
  paragraph(p.summary);

  heading(2, 'Times');
  const d = p.durationsSeconds;
  out.push(
    '| Moment | UTC | After the start |',
    '| --- | --- | --- |',
    `| Started | ${utc(p.times.startedAt)} | — |`,
    `| Detected (declared) | ${utc(p.times.detectedAt)} | ${spanOf(d.toDetect)} (time to detect) |`,
    `| Mitigated (first verified fix) | ${p.times.mitigatedAt ? utc(p.times.mitigatedAt) : 'not recorded'} | ${d.toMitigate === null ? '—' : `${spanOf(d.toMitigate)} (time to mitigate)`} |`,
    `| Resolved | ${p.times.resolvedAt ? utc(p.times.resolvedAt) : 'not yet'} | ${d.toResolve === null ? '—' : `${spanOf(d.toResolve)} (time to resolve)`} |`,
    '',
  );

  heading(2, 'Impact');
  const a = p.impact.assessment;
  list(
    [
      // The line the incident was declared with, unless it is the one the assessment below reads as.
      ...(p.impact.summary && (!a || p.impact.summary !== impactSummary(a)) ? [p.impact.summary] : []),
      ...(a
        ? [
            impactItem('Started', a.startedAt, (v) => `${utc(v)} UTC`),
            impactItem('Endpoints', a.endpoints, (v) => (v.length ? v.map((e) => e.route).join(', ') : 'none affected')),
            impactItem('Components', a.components, (v) => (v.length ? v.join(', ') : 'all healthy')),
            impactItem('Failed requests per minute', a.failedRequestsPerMinute, String),
            impactItem('Share of traffic failing', a.shareOfTraffic, formatPercent),
            impactItem('Data at risk', a.dataAtRisk, (v) => (v ? 'yes' : 'no')),
          ]
        : []),
    ],
    '*Not recorded: describe who and what was affected.*',
  );

  heading(2, 'How it was detected');
  paragraph(`Detected by ${p.detection.text}.`);

  heading(2, 'Timeline (UTC)');
  out.push('| Time | Source | Event |', '| --- | --- | --- |', ...p.timeline.map((e) => `| ${utc(e.at)} | ${e.source} | ${cell(e.text)} |`), '');

  heading(2, `24-hour checklist${p.checklist.dueAt ? ` (due ${utc(p.checklist.dueAt)} UTC)` : ' (due 24 hours after resolution)'}`);
  out.push(...p.checklist.items.flatMap(checklistLines), '');

  heading(2, 'Root cause');
  list(
    [...p.rootCause.deciding.map((f) => `Deciding finding: ${f}`), ...p.rootCause.suspectRollouts.map((s) => `Suspect rollout: ${s}`)],
    'No finding decided the SEV: it was declared by hand.',
  );
  out.push('*Why did these happen? Ask why until the answer is a system, a process or a missing safeguard.*', '');

  heading(2, 'Contributing factors');
  list(p.contributingFactors, '*None recorded by the checks.*');
  out.push('*What made it more likely, worse, or slower to find?*', '');

  heading(2, 'What went well');
  list(p.wentWell, '*Nothing recorded yet.*');

  heading(2, 'What went wrong');
  list(p.wentWrong, '*Nothing recorded yet.*');

  heading(2, 'Action items');
  out.push('| Action | Owner | Due |', '| --- | --- | --- |', ...p.actionItems.map((i) => `| ${cell(i.action)} | ${i.owner ? cell(i.owner) : '*owner*'} | ${i.due ? cell(i.due) : '*due date*'} |`), '');

  heading(2, 'Post-mortem review');
  paragraph(
    p.dueAt
      ? `Hold the blameless review by ${utc(p.dueAt)} UTC, 5 days after the resolution, and share what was learned.`
      : 'Hold the blameless review within 5 days of the resolution, and share what was learned.',
  );
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

function impactItem<T>(label: string, item: ImpactItem<T>, show: (value: T) => string): string {
  if (item.value === null) return `${label}: unknown (${item.why ?? 'no evidence'})`;
  return `${label}: ${show(item.value)}${item.evidence.length ? ` (${item.evidence.join('; ')})` : ''}`;
}

function checklistLines(item: ChecklistItem): string[] {
  return [...wrapLine(inline(item.text), `- [${item.done ? 'x' : ' '}] `), ...item.details.flatMap((detail) => wrapLine(inline(detail), '  - '))];
}

/**
 * `text` wrapped at {@link POSTMORTEM_WIDTH} after `marker` (a list marker, or none), its continuation lines
 * indented under the first's text. A line whose text would start a block (a list marker, a heading, a
 * thematic break) has that character escaped, so it stays text of the paragraph.
 */
function wrapLine(text: string, marker: string): string[] {
  const indent = ' '.repeat(marker.length);
  // A code span is never broken: the command in it is copied from the raw Markdown too.
  const lines = wrapItems(text.match(/(?:`[^`]*`|\S)+/g) ?? [''], POSTMORTEM_WIDTH - marker.length);
  return lines.map((line, i) => `${i === 0 ? marker : indent}${line.replace(BLOCK_START, '\\').replace(ORDERED_START, '$1\\$2')}`);
}

/** Starts a list item, an ATX heading, a setext underline or thematic break, or a fence (`*`, `>` and backticks are escaped already). */
const BLOCK_START = /^(?=[-+](?:\s|$)|#{1,6}(?:\s|$)|[-=]+\s*$|~~~)/;
/** Starts an ordered list item: `1. ` or `1) `. */
const ORDERED_START = /^(\d{1,9})([.)])(?=\s|$)/;

/**
 * Text as CommonMark inline content: code spans (`` `aegis-ir fix revert …` ``) kept, everything else
 * escaped, so a log line or a message with `*`, `_`, `<` or `[` reads as written.
 */
export function inline(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .split(/(`[^`]+`)/)
    .map((part, i) => (i % 2 ? part : part.replace(/[\\`*_[\]<>&|]/g, '\\$&')))
    .join('');
}

/** Inline text for a table cell: a pipe inside a code span is escaped too, as GitHub's tables require. */
function cell(text: string): string {
  return inline(text).replace(/(?<!\\)\|/g, '\\|');
}
