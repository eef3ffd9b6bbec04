import type { ChalkInstance } from 'chalk';
import { formatDuration, formatUtc } from '../core/duration.js';
import { SCHEMA_VERSION } from '../render/report.js';
import { paint } from '../render/style.js';
import type { IncidentClock } from './clock.js';
import { SERVICE_NAMES, type DeliveryReport } from './outbox.js';
import type { Postmortem } from './postmortem.js';
import { isOpen, pendingMessages, type Incident } from './record.js';

/** What an `incident` command shows: the incidents it is about, their clocks, and what was (not) delivered. */
export interface IncidentView {
  command: string;
  incidents: Array<{ incident: Incident; clock: IncidentClock }>;
  delivery: DeliveryReport;
  /** A line said first, e.g. "Opened INC-20261201-01". */
  headline: string | null;
  /** Commands worth running next. */
  next: string[];
  /** The 24-hour checklist, as far as the tool could do it (after `resolve`). */
  checklist?: Postmortem['checklist'];
}

/** The `-o json` document: schemaVersion 1, the records (secrets never enter them) with their clocks. */
export function incidentDocument(view: IncidentView): Record<string, unknown> {
  return {
    schemaVersion: SCHEMA_VERSION,
    command: view.command,
    incidents: view.incidents.map(({ incident, clock }) => ({ ...incident, clock })),
    delivered: view.delivery.delivered.map((m) => ({ id: m.id, service: m.service, action: m.action })),
    undelivered: view.delivery.undelivered.map((u) => ({ id: u.message.id, service: u.message.service, action: u.message.action, error: u.error })),
    ...(view.checklist ? { checklist: view.checklist } : {}),
    next: view.next,
  };
}

/** Text for a person: one block per incident, the clocks first, readable at a glance. */
export function incidentText(view: IncidentView, options: { color: boolean; now: Date; brief: boolean }): string {
  const c = paint(options.color);
  const lines: string[] = [];
  if (view.headline) lines.push(c.bold(view.headline), '');
  if (options.brief) {
    lines.push(...listLines(view, c, options.now));
  } else {
    for (const { incident, clock } of view.incidents) lines.push(...statusLines(incident, clock, c, options.now), '');
  }
  if (view.delivery.delivered.length) {
    const sent = view.delivery.delivered.map((m) => `${SERVICE_NAMES[m.service]} ${m.action}`);
    lines.push(`${c.green('✓')} delivered: ${sent.join(', ')}`);
  }
  for (const u of view.delivery.undelivered) lines.push(`${c.red('✖')} not delivered: ${SERVICE_NAMES[u.message.service]} ${u.message.action}: ${u.error}`);
  if (view.checklist) lines.push('', ...checklistLines(view.checklist, c, options.now));
  if (view.next.length) lines.push('', c.bold('Next'), ...view.next.map((n) => `  $ ${n}`));
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').replace(/\n+$/, '')}\n`;
}

function statusLines(incident: Incident, clock: IncidentClock, c: ChalkInstance, now: Date): string[] {
  const tone = incident.severity === 'SEV1' || incident.severity === 'SEV2' ? c.bold.red : c.bold.yellow;
  const state = isOpen(incident) ? c.bold(incident.status) : c.green('resolved');
  const at = (iso: string) => `${formatUtc(iso, now)} (${relative(iso, now)})`;
  const lines = [
    `${c.bold(incident.id)}  ${tone(incident.severity)}  ${state}  ${incident.channel}`,
    `  ${incident.title}`,
    `  ${label('started')}${at(incident.startedAt)}, ${span(clock.elapsedMs)} ${isOpen(incident) ? 'elapsed' : 'in all'}`,
    `  ${label('response')}${clock.responseMet ? c.green('met') : c.red('missed')}: declared ${span(clock.respondedAfterMs)} after the start (${incident.severity} responds within ${clock.responseTime})`,
    `  ${label('commander')}${incident.commander ?? c.yellow('none yet')}`,
  ];
  if (incident.impact.summary) lines.push(`  ${label('impact')}${incident.impact.summary}`);
  if (isOpen(incident)) {
    lines.push(`  ${label('engaged')}${clock.engaged.map((l) => `${l.role}${l.contact ? ` (${l.contact})` : ''}`).join(', ') || 'nobody'}`);
    lines.push(
      `  ${label('next')}${clock.next ? `${clock.next.role}${clock.next.contact ? ` (${clock.next.contact})` : ''} at ${escalationOffset(incident, clock.next.at)}, ${at(clock.next.at)}` : 'every level of the matrix is engaged'}`,
    );
    const u = clock.update;
    lines.push(
      `  ${label('updates')}${
        !u.required
          ? `none required for ${incident.severity}${u.lastAt ? `; last ${relative(u.lastAt, now)}` : ''}`
          : u.overdue
            ? c.bold.red(`OVERDUE: due ${at(u.dueAt ?? '')}; last ${relative(u.lastAt ?? incident.openedAt, now)}`)
            : `next due ${at(u.dueAt ?? '')}; last ${relative(u.lastAt ?? incident.openedAt, now)}`
      }`,
    );
  } else {
    lines.push(`  ${label('resolved')}${at(incident.resolvedAt ?? '')}${incident.summary ? `: ${incident.summary}` : ''}`);
  }
  if (incident.publicDraft && isOpen(incident) && !incident.updates.some((x) => x.public)) {
    lines.push(`  ${label('draft')}status page: "${incident.publicDraft}"`);
  }
  const pending = pendingMessages(incident);
  lines.push(
    `  ${label('outbox')}${
      pending.length
        ? c.yellow(`${pending.length} undelivered: ${pending.map((m) => `${SERVICE_NAMES[m.service]} ${m.action}${m.unconfirmed ? ` (unconfirmed: may have been posted, not sent again; ${m.lastError ?? ''})` : m.lastError ? ` (${m.lastError})` : ''}`).join('; ')}`)
        : incident.outbox.length
          ? `all ${incident.outbox.length} message(s) delivered`
          : 'nothing to send (no Slack, PagerDuty or Statuspage configured)'
    }`,
  );
  return lines;
}

/** The 24-hour checklist for a terminal: what is done, what is left, with the commands to run. */
function checklistLines(checklist: NonNullable<IncidentView['checklist']>, c: ChalkInstance, now: Date): string[] {
  const plain = (text: string) => text.replaceAll('`', '');
  return [
    c.bold(`24-hour checklist${checklist.dueAt ? ` (due ${formatUtc(checklist.dueAt, now)})` : ''}`),
    ...checklist.items.flatMap((item) => [`  ${item.done ? c.green('✓') : c.yellow('☐')} ${plain(item.text)}`, ...item.details.map((d) => `      ${plain(d)}`)]),
  ];
}

function listLines(view: IncidentView, c: ChalkInstance, now: Date): string[] {
  if (!view.incidents.length) return ['no incidents'];
  const rows = view.incidents.map(({ incident, clock }) => [
    incident.id,
    incident.severity,
    incident.status,
    isOpen(incident) ? span(clock.elapsedMs) : `resolved ${relative(incident.resolvedAt ?? '', now)}`,
    isOpen(incident) && clock.update.overdue ? 'update overdue' : pendingMessages(incident).length ? `${pendingMessages(incident).length} undelivered` : '',
    incident.title,
  ]);
  const header = ['ID', 'SEV', 'STATUS', 'ELAPSED', 'ATTENTION', 'TITLE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ');
  return [c.bold(line(header)), ...rows.map(line)];
}

function label(text: string): string {
  return `${text}:`.padEnd(11);
}

function relative(iso: string, now: Date): string {
  const delta = Date.parse(iso) - now.getTime();
  if (Math.abs(delta) < 1000) return 'now';
  return delta > 0 ? `in ${span(delta)}` : `${span(-delta)} ago`;
}

/** A span in whole seconds at least: people read `0s`, not `14ms`, off an incident clock. */
function span(ms: number): string {
  return ms < 1000 ? '0s' : formatDuration(Math.floor(ms / 1000) * 1000);
}

/** A level's time as the matrix writes it, from the start: `1h`, `30m`. */
function escalationOffset(incident: Incident, at: string): string {
  return formatDuration(Date.parse(at) - Date.parse(incident.startedAt));
}
