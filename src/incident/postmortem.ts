import { KUBERNETES_FINDINGS } from '../checks/kubernetes/findings.js';
import { impactSummary, type Impact } from '../checks/impact.js';
import { formatDuration } from '../core/duration.js';
import { groupAcrossPods } from '../core/findings.js';
import type { Severity } from '../core/severity.js';
import type { AlertingRule } from '../prometheus/rules.js';
import type { AuditRecord, Mitigation } from '../remediations/audit.js';
import type { IncidentClock } from './clock.js';
import type { JournalFinding, VerdictRecord } from './journal.js';
import { SERVICE_NAMES } from './outbox.js';
import type { DETECTION_SOURCES, Incident, Service } from './record.js';

/** A change applied during the incident that is still in effect (`fix revert --list`), and the command that undoes it. */
export type MitigationInEffect = Pick<Mitigation, 'run' | 'remediation' | 'target' | 'appliedAt' | 'revertCommand'>;

/** What the post-mortem is written from: nothing else, so the same inputs always give the same draft. */
export interface PostmortemInput {
  incident: Incident;
  /** The incident's window of the journal ({@link incidentJournal}). */
  journal: readonly AuditRecord[];
  /** The incident's clocks, for whether the SEV's response time was met. */
  clock: Pick<IncidentClock, 'responseMet' | 'responseTime'>;
  /** Mitigations applied in the window that are still in effect. */
  mitigations: readonly MitigationInEffect[];
  /** The alerting rules `aegis-ir monitoring rules` prints for this configuration. */
  rules: readonly AlertingRule[];
}

/** One line of the timeline, in UTC. */
export interface TimelineEntry {
  at: string;
  /** What wrote it: the incident record, a triage or diagnose verdict, a fix, or an outbound delivery. */
  source: 'incident' | 'triage' | 'diagnose' | 'fix' | 'delivery';
  text: string;
}

/** One item of the runbook's 24-hour checklist: done, or what is left to do. */
export interface ChecklistItem {
  id: 'document-timeline' | 'confirm-restored' | 'remove-mitigations' | 'update-monitoring';
  done: boolean;
  text: string;
  /** Commands or facts under the item (a `fix revert` per mitigation, a rule per gap). */
  details: string[];
}

/** A symptom found before the incident was declared that a rule of `monitoring rules` would have alerted on. */
export interface MonitoringGap {
  rule: string;
  code: string;
  finding: string;
  /** When a check first recorded it. */
  seenAt: string;
}

/** An action item: generated ones name what to change; owner and due are for the review to fill in. */
export interface ActionItem {
  action: string;
  owner: string | null;
  due: string | null;
}

/**
 * The post-mortem draft of one incident (SPEC `postmortem`): its times and durations, impact, timeline,
 * the 24-hour checklist and the blameless sections, prefilled from the record and the journal. Generated
 * text names roles and systems, never a person.
 */
export interface Postmortem {
  id: string;
  title: string;
  severity: Severity;
  channel: string;
  resolved: boolean;
  times: { startedAt: string; detectedAt: string; mitigatedAt: string | null; resolvedAt: string | null };
  /** From the start; null while the moment has not come. */
  durationsSeconds: { toDetect: number; toMitigate: number | null; toResolve: number | null };
  impact: { summary: string | null; assessment: Impact | null };
  detection: { source: (typeof DETECTION_SOURCES)[number] | null; text: string };
  summary: string;
  timeline: TimelineEntry[];
  checklist: { dueAt: string | null; items: ChecklistItem[] };
  rootCause: { deciding: string[]; suspectRollouts: string[] };
  contributingFactors: string[];
  wentWell: string[];
  wentWrong: string[];
  actionItems: ActionItem[];
  monitoringGaps: MonitoringGap[];
  mitigationsInEffect: MitigationInEffect[];
  /** The triage run that last confirmed (or could not confirm) service is restored. */
  restored: { at: string; severity: Severity | null; severityReason: string; confirmed: boolean } | null;
  /** The post-mortem meeting: 5 days after resolution. */
  dueAt: string | null;
}

const HOUR_MS = 3_600_000;
const CHECKLIST_WITHIN_MS = 24 * HOUR_MS;
const POSTMORTEM_WITHIN_MS = 5 * 24 * HOUR_MS;

/** Sources that are alerts: an incident they detected was covered by one. */
const ALERTING: ReadonlySet<string> = new Set(['pagerduty', 'grafana', 'datadog', 'cloudwatch']);

const DETECTED_BY: Record<(typeof DETECTION_SOURCES)[number], string> = {
  pagerduty: 'a PagerDuty alert',
  grafana: 'a Grafana alert',
  datadog: 'a Datadog monitor',
  cloudwatch: 'a CloudWatch alarm',
  customer: 'a customer report',
  'aegis-ir': 'an aegis-ir triage run',
};

const K = KUBERNETES_FINDINGS;

type Verdict = AuditRecord & VerdictRecord;

/** Builds the post-mortem draft. Pure: the same record, journal, mitigations and rules give the same draft. */
export function postmortemOf(input: PostmortemInput): Postmortem {
  const { incident } = input;
  const journal = [...input.journal].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  const end = incident.resolvedAt ? Date.parse(incident.resolvedAt) : Infinity;
  const during = journal.filter((r) => Date.parse(r.time) <= end);
  const verdicts = during.filter((r): r is Verdict => r.event === 'verdict' && Array.isArray(r.findings));
  const mitigatedAt = firstMitigation(during);
  const started = Date.parse(incident.startedAt);
  const since = (iso: string | null) => (iso === null ? null : Math.max(0, Math.round((Date.parse(iso) - started) / 1000)));
  const deciding = decidingFindings(incident, verdicts);
  const decidingCodes = new Set(deciding.map((d) => d.split(' ')[0]));
  const suspectRollouts = unique(verdicts.flatMap((v) => v.findings.filter((f) => f.code === K.suspectRollout.code)), (f) => f.resource ?? f.summary).map((f) => f.summary.replace(/^suspect: /, ''));
  const gaps = ALERTING.has(incident.detectedBy ?? '') ? [] : monitoringGaps(incident, verdicts, input.rules);
  const restored = restoredBy(incident, journal);
  const mitigations = [...input.mitigations];
  const timeline = timelineOf(incident, during);
  const dueAt = (ms: number) => (incident.resolvedAt ? new Date(Date.parse(incident.resolvedAt) + ms).toISOString() : null);
  const durations = { toDetect: since(incident.openedAt) ?? 0, toMitigate: since(mitigatedAt), toResolve: since(incident.resolvedAt) };
  const detection = detectionOf(incident, verdicts);

  return {
    id: incident.id,
    title: incident.title,
    severity: incident.severity,
    channel: incident.channel,
    resolved: incident.resolvedAt !== null,
    times: { startedAt: incident.startedAt, detectedAt: incident.openedAt, mitigatedAt, resolvedAt: incident.resolvedAt },
    durationsSeconds: durations,
    impact: { summary: incident.impact.summary, assessment: (incident.impact.assessment as Impact | null) ?? null },
    detection,
    summary: summaryOf(incident, durations, detection.text),
    timeline,
    checklist: { dueAt: dueAt(CHECKLIST_WITHIN_MS), items: checklist(timeline, restored, mitigations, gaps) },
    rootCause: { deciding, suspectRollouts },
    contributingFactors: contributing(verdicts, decidingCodes),
    wentWell: wentWell(incident, input.clock, verdicts, mitigatedAt, during),
    wentWrong: wentWrong(incident, input.clock, verdicts, during, gaps),
    actionItems: actionItems(verdicts, suspectRollouts, mitigations, gaps),
    monitoringGaps: gaps,
    mitigationsInEffect: mitigations,
    restored,
    dueAt: dueAt(POSTMORTEM_WITHIN_MS),
  };
}

/** `2026-12-01 03:12:40`: timeline times, always UTC. */
export function utc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** A duration of the post-mortem: `0s`, `12m`, `1h5m`. */
export function spanOf(seconds: number): string {
  return formatDuration(seconds * 1000);
}

/** The first fix of the window whose steps were applied and whose verification passed. */
function firstMitigation(journal: readonly AuditRecord[]): string | null {
  const applied = new Set(journal.filter((r) => r.event === 'outcome' && r.status === 'done').map((r) => r.run));
  return journal.find((r) => r.event === 'verify' && applied.has(r.run) && verifyPassed(r))?.time ?? null;
}

/** A `verify` record's result; a record from before `passed` was recorded passed when it found nothing and ran. */
function verifyPassed(record: AuditRecord): boolean {
  if (typeof record.passed === 'boolean') return record.passed;
  return Array.isArray(record.findings) && record.findings.length === 0 && !String(record.summary).startsWith('could not verify');
}

/**
 * The findings that decided the SEV: the record's (from `--from-triage`), else the first verdict's at the
 * incident's SEV. A suspect rollout is named as such, not among them.
 */
function decidingFindings(incident: Incident, verdicts: readonly Verdict[]): string[] {
  const first = verdicts.find((v) => v.severity === incident.severity) ?? verdicts.find((v) => v.severity);
  const found = incident.findings.length ? incident.findings : first ? unique(first.findings.filter((f) => f.severity === first.severity), cite).map(cite) : [];
  return found.filter((f) => !f.startsWith(`${K.suspectRollout.code} `));
}

function cite(f: JournalFinding): string {
  return `${f.code} ${f.summary}`;
}

/**
 * Symptoms a check recorded at or before the declaration that a rule of `monitoring rules` covers: no
 * alert paged for them, so the incident waited for someone to run triage (or for a customer).
 */
function monitoringGaps(incident: Incident, verdicts: readonly Verdict[], rules: readonly AlertingRule[]): MonitoringGap[] {
  const declared = Date.parse(incident.openedAt);
  const gaps: MonitoringGap[] = [];
  for (const v of verdicts.filter((x) => Date.parse(x.time) <= declared)) {
    for (const f of v.findings.filter((x) => x.severity)) {
      const rule = rules.find((r) => r.labels.code === f.code && (!r.labels.component || r.labels.component === f.subject?.component));
      if (rule && !gaps.some((g) => g.rule === rule.alert)) gaps.push({ rule: rule.alert, code: f.code, finding: f.summary, seenAt: v.time });
    }
  }
  return gaps;
}

/** The latest triage run that confirmed restoration and could assess something; else the latest that tried. */
function restoredBy(incident: Incident, journal: readonly AuditRecord[]): Postmortem['restored'] {
  const runs = journal.filter((r): r is Verdict => r.event === 'verdict' && r.confirms === incident.id);
  const chosen = runs.filter((r) => !r.assessedNothing).at(-1) ?? runs.at(-1);
  if (!chosen) return null;
  return {
    at: chosen.time,
    severity: chosen.severity,
    severityReason: chosen.severityReason,
    confirmed: chosen.severity === null && !chosen.assessedNothing && chosen.unknown.length === 0,
  };
}

function detectionOf(incident: Incident, verdicts: readonly Verdict[]): Postmortem['detection'] {
  const source = incident.detectedBy;
  if (!source) return { source, text: 'not recorded (declare with incident open --detected-by SOURCE next time)' };
  const first = verdicts.find((v) => v.severity);
  const triage = source === 'aegis-ir' && first ? ` at ${utc(first.time)} UTC (${first.severity}: ${first.severityReason})` : '';
  return { source, text: `${DETECTED_BY[source]}${triage}` };
}

function summaryOf(incident: Incident, d: Postmortem['durationsSeconds'], detection: string): string {
  const parts = [
    `${incident.severity} incident "${incident.title}" started at ${utc(incident.startedAt)} UTC and was declared ${spanOf(d.toDetect)} later, detected by ${detection}.`,
    d.toMitigate === null ? 'No fix was verified as mitigating it.' : `It was mitigated ${spanOf(d.toMitigate)} after the start.`,
    d.toResolve === null ? 'It is not resolved yet.' : `It was resolved ${spanOf(d.toResolve)} after the start${incident.summary ? `: ${incident.summary}` : ''}.`,
    `Impact: ${incident.impact.summary ?? (incident.impact.assessment ? impactSummary(incident.impact.assessment as unknown as Impact) : 'not recorded')}.`,
  ];
  return parts.join(' ');
}

/**
 * The timeline: the incident's own events from its record (shared by everyone who worked it), and from the
 * journal what only it holds — verdicts, every fix's plan, confirmation, steps and verification, and
 * deliveries that failed. The record's events in the journal are not repeated.
 */
function timelineOf(incident: Incident, journal: readonly AuditRecord[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [{ at: incident.startedAt, source: 'incident', text: 'symptoms began' }];
  incident.updates.forEach((u, i) => {
    const previous = incident.updates[i - 1];
    const sev = previous && previous.severity !== u.severity ? ` SEV ${previous.severity} → ${u.severity};` : '';
    const text =
      i === 0
        ? `declared ${u.severity} in ${incident.channel}: ${incident.title}`
        : u.status === 'resolved'
          ? `resolved: ${u.message}`
          : `update (${u.status}${u.public ? ', public' : ''}):${sev} ${u.message}`;
    entries.push({ at: u.at, source: 'incident', text });
  });
  for (const e of incident.escalations) {
    const contact = e.contact ? ` (${e.contact})` : '';
    entries.push({ at: e.at, source: 'incident', text: e.reason === 'manual' ? `escalated to ${e.to}${contact}` : `${e.to}${contact} engaged by the ${incident.severity} escalation matrix` });
  }
  const recordEvents = entries.length;
  for (const m of incident.outbox.filter((x) => x.deliveredAt)) {
    entries.push({ at: m.deliveredAt ?? m.createdAt, source: 'delivery', text: `${SERVICE_NAMES[m.service]} ${messageName(m.service, m.action)} delivered` });
  }
  for (const r of journal.filter((x) => !aboutAnother(x, incident.id))) {
    const entry = journalEntry(r);
    if (entry) entries.push(entry);
  }
  // An update, escalation or resolution takes its time when its command starts to write it, so a verdict or
  // a fix of the same millisecond (resolve's restoring triage, just before the resolution) happened first, and
  // the deliveries it caused came after. Otherwise entries of one instant keep the order above.
  const rank = (e: TimelineEntry, i: number) => (i === 0 ? 0 : e.source === 'delivery' ? 3 : i < recordEvents ? 2 : 1);
  return entries
    .map((e, i) => ({ e, i, rank: rank(e, i) }))
    .sort((a, b) => Date.parse(a.e.at) - Date.parse(b.e.at) || a.rank - b.rank || a.i - b.i)
    .map(({ e }) => e);
}

/**
 * A record of the window that belongs to another incident only: its deliveries, and a triage confirming that
 * one is restored. Everything else in the window (a verdict, a fix) is part of this incident's story too.
 */
function aboutAnother(r: AuditRecord, id: string): boolean {
  if (r.event === 'verdict' && typeof r.confirms === 'string') return r.confirms !== id;
  return r.event === 'delivery' && ![r.incident ?? []].flat().includes(id);
}

/** A page is a PagerDuty trigger: named so, the rest by their action. */
function messageName(service: Service, action: string): string {
  if (service === 'pagerduty') return action === 'trigger' ? 'page' : action === 'change' ? 'change event' : action;
  return action;
}

function journalEntry(r: AuditRecord): TimelineEntry | null {
  const at = r.time;
  if (r.event === 'verdict') {
    const v = r as Verdict;
    const source = v.command.startsWith('diagnose') ? 'diagnose' : 'triage';
    const purpose = v.confirms ? ' (confirming service is restored)' : v.declares ? ` (declaring ${v.declares})` : '';
    const verdict = v.severity ? `${v.severity}: ${v.severityReason}` : v.severityReason;
    return { at, source, text: `${v.command}${purpose}: ${verdict}` };
  }
  if (r.event === 'delivery') {
    return r.outcome === 'undelivered' ? { at, source: 'delivery', text: `${SERVICE_NAMES[r.service as Service] ?? String(r.service)} ${String(r.action)} not delivered: ${String(r.error)}` } : null;
  }
  if (!r.remediation) return null;
  const fix = `fix ${r.remediation}`;
  const text = fixEventText(r);
  return text === null ? null : { at, source: 'fix', text: `${fix}${r.event === 'plan' && r.dryRun ? ' --dry-run' : ''}: ${text}` };
}

function fixEventText(r: AuditRecord): string | null {
  switch (r.event) {
    case 'plan':
      return `plan on ${String(r.target)}: ${String(r.summary)}`;
    case 'plan-saved':
      return `plan saved for review (${String(r.planFile)})`;
    case 'confirmed':
      return `confirmed (${r.by === '--yes' ? '--yes' : 'at the prompt'})`;
    case 'outcome':
      return `step ${String(r.status)}: ${String(r.description)}`;
    case 'verify':
      return `${verifyPassed(r) ? 'verified' : 'verification did not pass'}: ${String(r.summary)}`;
    case 'declined':
      return 'declined at the prompt; nothing applied';
    case 'cancelled':
      return 'cancelled; the steps not run were not applied';
    case 'error':
      return `stopped by an error: ${String(r.error)}`;
    case 'refused':
    case 'preflight-failed':
    case 'lock-held':
    case 'cap-exceeded':
    case 'plan-changed':
    case 'lock-lost':
      return `refused by a guard (${r.event}); nothing applied`;
    default:
      // `step` is said by its outcome; lock bookkeeping is not part of the story.
      return null;
  }
}

function checklist(timeline: readonly TimelineEntry[], restored: Postmortem['restored'], mitigations: readonly MitigationInEffect[], gaps: readonly MonitoringGap[]): ChecklistItem[] {
  return [
    { id: 'document-timeline', done: true, text: `Document the timeline: ${timeline.length} entries, from the incident record and the journal`, details: [] },
    {
      id: 'confirm-restored',
      done: Boolean(restored?.confirmed),
      text: !restored
        ? 'Confirm service is restored: no triage has confirmed it yet; run `aegis-ir triage`'
        : restored.confirmed
          ? `Confirm service is restored: triage at ${utc(restored.at)} UTC found no problem`
          : `Confirm service is restored: not confirmed, triage at ${utc(restored.at)} UTC: ${restored.severity ? `${restored.severity}: ` : ''}${restored.severityReason}`,
      details: [],
    },
    {
      id: 'remove-mitigations',
      done: mitigations.length === 0,
      text: mitigations.length ? `Remove temporary mitigations: ${mitigations.length} still in effect` : 'Remove temporary mitigations: none applied during the incident is still in effect',
      details: mitigations.map((m) => `\`fix ${m.remediation}\` on ${m.target}, applied ${utc(m.appliedAt)} UTC: \`${m.revertCommand}\``),
    },
    {
      id: 'update-monitoring',
      done: gaps.length === 0,
      text: gaps.length ? 'Update monitoring: no alert covered what checks found before the incident was declared' : 'Update monitoring: no gap found',
      details: gaps.map((g) => `add the \`${g.rule}\` rule of \`aegis-ir monitoring rules\`: ${g.code} ${g.finding} (seen ${utc(g.seenAt)} UTC)`),
    },
  ];
}

/** Findings of the window that did not decide the SEV: context (no memory limit, lingering pods) and lesser symptoms. */
function contributing(verdicts: readonly Verdict[], deciding: ReadonlySet<string | undefined>): string[] {
  const others = verdicts.flatMap((v) => v.findings.filter((f) => f.code !== K.suspectRollout.code && !deciding.has(f.code)));
  // The same finding on several pods is one factor: "AEG-1030 on 3 pods: a, b, c — …".
  return groupAcrossPods(unique(others, (f) => `${f.code} ${f.resource ?? ''}`)).map((g) => `${g.finding.code} ${g.summary}`);
}

function wentWell(incident: Incident, clock: PostmortemInput['clock'], verdicts: readonly Verdict[], mitigatedAt: string | null, journal: readonly AuditRecord[]): string[] {
  const out: string[] = [];
  if (clock.responseMet) out.push(`The incident was declared within the ${incident.severity} response time (${clock.responseTime}).`);
  const classified = verdicts.find((v) => v.severity === incident.severity) ?? verdicts.find((v) => v.severity);
  if (classified) out.push(`Triage classified it ${classified.severity} at ${utc(classified.time)} UTC, naming the deciding findings.`);
  if (mitigatedAt) {
    const run = journal.find((r) => r.event === 'verify' && r.time === mitigatedAt)?.remediation;
    out.push(`\`fix ${String(run)}\` ran under its guards and its verification passed at ${utc(mitigatedAt)} UTC.`);
  }
  if (incident.outbox.length && incident.outbox.every((m) => m.deliveredAt)) {
    const services = [...new Set(incident.outbox.map((m) => SERVICE_NAMES[m.service]))];
    out.push(`Every one of the ${incident.outbox.length} messages (${services.join(', ')}) was delivered.`);
  }
  return out;
}

function wentWrong(incident: Incident, clock: PostmortemInput['clock'], verdicts: readonly Verdict[], journal: readonly AuditRecord[], gaps: readonly MonitoringGap[]): string[] {
  const out: string[] = [];
  if (!clock.responseMet) out.push(`The incident was declared after the ${incident.severity} response time (${clock.responseTime}).`);
  if (gaps.length) out.push(`No alert fired for ${gaps.map((g) => g.code).join(', ')} before the incident was declared.`);
  const undelivered = incident.outbox.filter((m) => !m.deliveredAt);
  if (undelivered.length) out.push(`${undelivered.length} message(s) were never delivered: ${undelivered.map((m) => `${SERVICE_NAMES[m.service]} ${m.action}`).join(', ')}.`);
  if (incident.reminders.length) out.push(`Updates fell behind the cadence ${incident.reminders.length} time(s) (reminders at ${incident.reminders.map((r) => `${utc(r)} UTC`).join(', ')}).`);
  const refused = journal.filter((r) => r.remediation && ['refused', 'preflight-failed', 'lock-held', 'cap-exceeded', 'plan-changed', 'lock-lost', 'error'].includes(r.event));
  if (refused.length) out.push(`${refused.length} fix run(s) were refused or stopped: ${unique(refused, (r) => `${r.remediation} ${r.event}`).map((r) => `fix ${r.remediation} (${r.event})`).join(', ')}.`);
  const failedSteps = journal.filter((r) => r.event === 'outcome' && r.status === 'failed');
  if (failedSteps.length) out.push(`${failedSteps.length} fix step(s) failed: ${failedSteps.map((r) => String(r.description)).join('; ')}.`);
  const blind = unique(verdicts.filter((v) => v.unknown.length), (v) => v.unknown.join()).flatMap((v) => v.unknown);
  if (blind.length) out.push(`Some evidence could not be gathered: ${[...new Set(blind)].join('; ')}.`);
  return out;
}

function actionItems(verdicts: readonly Verdict[], suspects: readonly string[], mitigations: readonly MitigationInEffect[], gaps: readonly MonitoringGap[]): ActionItem[] {
  const item = (action: string): ActionItem => ({ action, owner: null, due: null });
  const unlimited = unique(
    verdicts.flatMap((v) => v.findings.filter((f) => f.code === K.noMemoryLimit.code && f.subject?.container)),
    (f) => f.subject?.container,
  );
  return [
    item('Fix the root cause (to be agreed at the review)'),
    ...mitigations.map((m) => item(`Replace the temporary \`fix ${m.remediation}\` on ${m.target} with a lasting change, then \`${m.revertCommand}\``)),
    ...gaps.map((g) => item(`Alert on ${g.code} (${g.finding}): add the \`${g.rule}\` rule of \`aegis-ir monitoring rules\``)),
    ...unlimited.map((f) => item(`Add a memory limit to container ${f.subject?.container} (\`aegis-ir fix enforce-limits --dry-run\`)`)),
    ...suspects.map((s) => item(`Review the suspect rollout before it is deployed again: ${s}`)),
  ];
}

/** The first of each key, in order. */
function unique<T>(items: readonly T[], key: (item: T) => unknown): T[] {
  const seen = new Set<unknown>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
