import type { Report } from '../checks/verdict.js';
import { runbookCommandOf } from '../core/findings.js';
import { meetsFailOn, type FailOn } from '../core/severity.js';

/**
 * GitHub Actions workflow commands for the findings at or above `--fail-on`: `::error` for critical and error
 * findings, `::warning` for the others, so the run's page shows why the gate failed.
 */
export function githubAnnotations(report: Report, failOn: FailOn): string {
  return report.findings
    .filter((f) => meetsFailOn(f.severity, failOn))
    .map((f) => {
      const command = f.level === 'critical' || f.level === 'error' ? 'error' : 'warning';
      const title = `${f.code} ${f.severity ?? ''}`.trim();
      return `::${command} title=${property(title)}::${data(`${f.summary}${f.resource ? ` (${f.resource})` : ''} — ${runbookCommandOf(f.runbook)}`)}\n`;
    })
    .join('');
}

/** The escaping GitHub's runner applies to a command's message… */
function data(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** …and to a property value. */
function property(text: string): string {
  return data(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
