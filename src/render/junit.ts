import type { Report } from '../checks/verdict.js';
import { runbookCommandOf, type Finding } from '../core/findings.js';
import { meetsFailOn, type FailOn } from '../core/severity.js';

/**
 * A report as JUnit XML, for CI systems that show test results: one testcase per check (and one per correlation
 * that found something), a `failure` for each finding at or above `--fail-on`, an `error` for a check that could
 * not run, `skipped` with its reason. Findings below `--fail-on` go to the testcase's system-out.
 */
export function junitReport(report: Report, failOn: FailOn): string {
  const suite = `aegis-ir ${report.command}`;
  const checkIds = report.checks.map((c) => c.id);
  const correlations = [...new Set(report.findings.map((f) => f.check).filter((id) => !checkIds.includes(id)))];
  const cases = [
    ...report.checks.map((c) => ({ id: c.id, seconds: c.durationMs / 1000, status: c.status, detail: c.error ?? c.reason ?? '' })),
    ...correlations.map((id) => ({ id, seconds: 0, status: 'findings' as const, detail: '' })),
  ].map((c) => {
    const findings = report.findings.filter((f) => f.check === c.id);
    const failing = findings.filter((f) => meetsFailOn(f.severity, failOn));
    const passing = findings.filter((f) => !failing.includes(f));
    const body = [
      ...(c.status === 'skipped' ? [`      <skipped message="${attr(c.detail)}"/>`] : []),
      ...(c.status === 'errored' ? [`      <error type="errored" message="${attr(c.detail)}"/>`] : []),
      ...failing.map((f) => `      <failure type="${attr(f.code)}" message="${attr(headline(f))}">${text(details(f))}</failure>`),
      ...(passing.length ? [`      <system-out>${text(passing.map((f) => `${headline(f)}\n${details(f)}`).join('\n\n'))}</system-out>`] : []),
    ];
    return { ...c, failures: failing.length, xml: `    <testcase classname="${attr(suite)}" name="${attr(c.id)}" time="${c.seconds.toFixed(3)}"${body.length ? `>\n${body.join('\n')}\n    </testcase>` : '/>'}` };
  });
  const counts = {
    tests: cases.length,
    failures: cases.reduce((n, c) => n + c.failures, 0),
    errors: cases.filter((c) => c.status === 'errored').length,
    skipped: cases.filter((c) => c.status === 'skipped').length,
    time: cases.reduce((t, c) => t + c.seconds, 0).toFixed(3),
  };
  const totals = `tests="${counts.tests}" failures="${counts.failures}" errors="${counts.errors}" skipped="${counts.skipped}" time="${counts.time}"`;
  const verdict = report.severity ? `${report.severity}: ${report.severityReason}` : report.severityReason;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(suite)}" ${totals}>`,
    `  <testsuite name="${attr(suite)}" ${totals}>`,
    '    <properties>',
    `      <property name="severity" value="${attr(report.severity ?? 'none')}"/>`,
    `      <property name="verdict" value="${attr(verdict)}"/>`,
    `      <property name="failOn" value="${attr(failOn)}"/>`,
    '    </properties>',
    ...cases.map((c) => c.xml),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function headline(f: Finding): string {
  return `${f.code}${f.severity ? ` ${f.severity}` : ''} ${f.summary}${f.resource ? ` (${f.resource})` : ''}`;
}

function details(f: Finding): string {
  return [`runbook: ${runbookCommandOf(f.runbook)}`, ...f.next.map((n) => `next: ${n}`), `evidence: ${JSON.stringify(f.evidence)}`].join('\n');
}

// XML 1.0 allows neither most control characters nor unpaired surrogates, even escaped.
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function text(value: string): string {
  return value.replace(INVALID_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(value: string): string {
  return text(value).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
