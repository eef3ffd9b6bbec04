import { nextCommandsOf } from '../checks/next-steps.js';
import type { Report } from '../checks/verdict.js';
import type { CheckOutcome } from '../checks/runner.js';
import { SEVERITY_CLASSES } from '../core/severity.js';
import { escalationChain } from './report.js';
import { LEVEL_MARK } from './style.js';

/**
 * A report as a Markdown summary: what a GitHub Actions job summary (`$GITHUB_STEP_SUMMARY`), a pull-request comment
 * or an incident channel shows. Verdict, findings, checks and next commands, in tables a reader can scan.
 */
export function markdownSummary(report: Report): string {
  const lines: string[] = [];
  if (report.severity) {
    const sevClass = SEVERITY_CLASSES[report.severity];
    lines.push(
      `## aegis-ir ${report.command}: ${report.severity} — ${sevClass.description}`,
      '',
      `**Respond within ${report.responseTime}.** Escalation: ${escalationChain(report)}.`,
      '',
      `Decided by: ${inline(report.severityReason)}`,
    );
  } else {
    lines.push(`## aegis-ir ${report.command}: ${report.assessedNothing || report.unknown.length ? 'UNKNOWN' : 'healthy'}`, '', inline(report.severityReason));
  }
  if (report.unknown.length) lines.push('', `> **Verdict incomplete:** ${inline(report.unknown.join('; '))} — it may be worse.`);
  if (report.findings.length) {
    lines.push('', '### Findings', '', '| | code | severity | summary | resource |', '|---|---|---|---|---|');
    for (const f of report.findings) {
      lines.push(`| ${LEVEL_MARK[f.level]} | ${f.code} | ${f.severity ?? '—'} | ${cell(f.summary)} | ${f.resource ? cell(f.resource) : ''} |`);
    }
  }
  lines.push('', '### Checks', '', '| check | status | time | detail |', '|---|---|---|---|');
  for (const c of report.checks) lines.push(`| ${c.id} | ${c.status} | ${c.durationMs} ms | ${cell(detailOf(c))} |`);
  const next = nextCommandsOf(report);
  if (next.length) lines.push('', '### Next', '', '```sh', ...next, '```');
  return `${lines.join('\n')}\n`;
}

function detailOf(c: CheckOutcome): string {
  if (c.status === 'findings') return c.findings.map((f) => f.code).join(', ');
  return c.error ?? c.reason ?? '';
}

/** Text inside a table cell: no pipes or line breaks to break the row. */
function cell(text: string): string {
  return inline(text).replace(/\|/g, '\\|');
}

function inline(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/([*_`<>])/g, '\\$1');
}
