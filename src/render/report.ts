import { nextCommandsOf } from '../checks/next-steps.js';
import type { ChalkInstance } from 'chalk';
import { groupAcrossPods, runbookCommandOf } from '../core/findings.js';
import { evidenceText } from './evidence.js';
import { SCHEMA_VERSION, type TextOptions } from './output.js';
import type { CheckOutcome } from '../checks/runner.js';
import type { Impact, ImpactItem } from '../checks/impact.js';
import { formatPercent } from '../checks/prometheus/source.js';
import type { Report } from '../checks/verdict.js';
import { formatDuration, formatUtc } from '../core/duration.js';
import { SEVERITY_CLASSES } from '../core/severity.js';
import { LEVEL_MARK, levelColor, paint } from './style.js';
import { wrapText } from './wrap.js';

export { SCHEMA_VERSION } from './output.js';

/** SPEC's JSON document for `triage` and `diagnose`. */
export function reportDocument(report: Report): Record<string, unknown> {
  return {
    schemaVersion: SCHEMA_VERSION,
    command: report.command,
    severity: report.severity,
    severityReason: report.severityReason,
    responseTime: report.responseTime,
    escalation: report.escalation,
    findings: report.findings.map((f) => ({
      code: f.code,
      check: f.check,
      level: f.level,
      severity: f.severity,
      summary: f.summary,
      resource: f.resource,
      evidence: f.evidence,
      runbook: f.runbook,
      next: f.next,
      ...(f.since ? { since: f.since } : {}),
    })),
    ...(report.impact ? { impact: report.impact } : {}),
    checks: report.checks.map((c) => ({
      id: c.id,
      status: c.status,
      durationMs: c.durationMs,
      error: c.error,
      ...(c.reason ? { reason: c.reason } : {}),
    })),
  };
}

/** The report for a person at a terminal: verdict first, then findings, checks and next steps. */
export function reportText(report: Report, options: TextOptions): string {
  const c = paint(options.color);
  const lines: string[] = [];
  lines.push(...verdictLines(report, c), '');
  if (report.impact && report.severity) lines.push(...impactLines(report.impact, c), '');
  if (report.findings.length) {
    lines.push(c.bold('Findings'));
    for (const group of groupAcrossPods(report.findings)) {
      const f = group.finding;
      const tone = levelColor(c, f.level);
      const resource = group.pods.length > 1 ? '' : f.resource ? c.dim(`  (${f.resource})`) : '';
      lines.push(`  ${tone(`${LEVEL_MARK[f.level]} ${f.code}`)} ${group.summary}${resource}`);
      const table = f.evidence.table;
      // A table (the heap profile's top) is read as one, line by line.
      if (Array.isArray(table)) lines.push(...table.map((line) => `      ${String(line)}`));
      const { table: _table, ...evidence } = f.evidence;
      const shown = evidenceText(evidence, options.verbose);
      lines.push(...shown.lines.map((line) => c.dim(`      ${line}`)));
      if (shown.hidden.length) lines.push(c.dim(`      ${shown.hidden.join(', ')}; -v to show`));
      lines.push(c.dim(`      runbook: ${runbookCommandOf(f.runbook)}`));
    }
    lines.push('');
  }
  lines.push(c.bold('Checks'));
  const width = Math.max(...report.checks.map((o) => o.id.length), 0);
  for (const o of report.checks) lines.push(`  ${checkLine(o, width, c)}`);
  const next = nextCommandsOf(report);
  if (next.length) {
    lines.push('', c.bold('Next'));
    for (const command of next) lines.push(`  $ ${command}`);
  }
  if (report.unavailableNext?.length) {
    lines.push('', c.bold('Not available here'));
    // The command whole, as it will be pasted once configured; what it needs wraps below it.
    for (const u of report.unavailableNext) lines.push(`  ${u.command}`, `      needs ${u.needs}`);
  }
  // A command is pasted whole: the lines that are commands are never broken.
  const command = /^ {2}(\$ |aegis-ir |kubectl )/;
  return `${wrapText(lines.join('\n'), options.width ?? 80, command)}\n`;
}

/** `On-Call now → Tech Lead at 30m → …` */
export function escalationChain(report: Report): string {
  return report.escalation.map((s) => (s.after === '0m' ? `${s.to} now` : `${s.to} at ${s.after}`)).join(' → ');
}

export function verdictLines(report: Report, c: ChalkInstance): string[] {
  if (!report.severity) {
    if (report.assessedNothing || report.unknown.length) {
      return [`${c.bold.yellow('UNKNOWN')}  ${report.severityReason}`];
    }
    return [`${c.bold.green('HEALTHY')}  ${report.severityReason}`];
  }
  const sevClass = SEVERITY_CLASSES[report.severity];
  const tone = report.severity === 'SEV1' || report.severity === 'SEV2' ? c.bold.red : c.bold.yellow;
  const chain = escalationChain(report);
  const lines = [
    `${tone(report.severity)}  ${sevClass.description} — respond within ${report.responseTime}`,
    `  decided by: ${report.severityReason}`,
    `  escalation: ${chain}`,
  ];
  if (report.unknown.length) lines.push(c.yellow(`  unknown: ${report.unknown.join(', ')} — the verdict may be worse`));
  return lines;
}

function checkLine(o: CheckOutcome, width: number, c: ChalkInstance): string {
  const name = o.id.padEnd(width);
  const time = c.dim(formatDuration(o.durationMs).padStart(6));
  switch (o.status) {
    case 'ok':
      return `${c.green('✓')} ${name} ${time}  ok`;
    case 'findings':
      return `${c.yellow('▲')} ${name} ${time}  ${o.findings.length} finding(s)`;
    case 'skipped':
      return `${c.dim('-')} ${name} ${time}  skipped: ${o.reason ?? ''}`;
    default:
      return `${c.red('✖')} ${name} ${time}  errored: ${o.error ?? ''}${o.hint ? c.dim(`\n    ${' '.repeat(width + 9)}try: ${o.hint}`) : ''}`;
  }
}


/** Step 2 of the Triage Procedure: each item with where it came from, or unknown and why. */
function impactLines(impact: Impact, c: ChalkInstance): string[] {
  const item = <T>(name: string, entry: ImpactItem<T>, show: (value: T) => string) =>
    entry.value === null
      ? `  ${name.padEnd(15)} ${c.yellow('unknown')}${c.dim(`  (${entry.why ?? ''})`)}`
      : `  ${name.padEnd(15)} ${show(entry.value)}${entry.evidence[0] ? c.dim(`  (${entry.evidence[0]}${entry.evidence.length > 1 ? ` +${entry.evidence.length - 1}` : ''})`) : ''}`;
  return [
    c.bold('Impact'),
    item('started', impact.startedAt, (v) => formatUtc(v)),
    item('endpoints', impact.endpoints, (v) => (v.length ? v.map((e) => e.route).join(', ') : 'none affected')),
    item('components', impact.components, (v) => (v.length ? v.join(', ') : 'all healthy')),
    item('failed req/min', impact.failedRequestsPerMinute, String),
    item('share failing', impact.shareOfTraffic, formatPercent),
    item('data at risk', impact.dataAtRisk, (v) => (v ? c.red('yes') : 'no')),
  ];
}
