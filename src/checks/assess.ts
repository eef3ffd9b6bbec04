import type { Context } from '../core/context.js';
import type { Finding } from '../core/findings.js';
import type { Check } from './check.js';
import { runChecks } from './runner.js';
import { assessImpact } from './impact.js';
import { runnableNext } from './next-steps.js';
import { classify, type Report } from './verdict.js';

/** Derives findings that need more than one check's evidence (e.g. a rollout that preceded symptoms). */
export type Correlate = (findings: Finding[], now: Date) => Finding[];

/**
 * Runs a set of checks under the configured deadlines, with a spinner on a terminal, and classifies
 * the result: the shared body of `triage` and every `diagnose` section.
 */
export async function assess(
  ctx: Context,
  command: string,
  checks: readonly Check[],
  correlate: Correlate[] = [],
): Promise<Report> {
  const progress = ctx.progress(`${command}: ${ctx.config.app.deployment} in namespace ${ctx.config.namespace}…`);
  try {
    const outcomes = await runChecks(ctx, [...checks], {
      checkTimeoutMs: ctx.config.checkTimeout,
      timeoutMs: ctx.config.timeout,
    });
    const findings = outcomes.flatMap((o) => o.findings);
    const now = ctx.clock.now();
    const report = classify(command, outcomes, correlate.flatMap((derive) => derive(findings, now)));
    return { ...runnableNext(withIncidentNext(report), ctx), impact: assessImpact(outcomes, report.findings, report.severity, ctx.config) };
  } finally {
    progress.stop();
  }
}

/** The runbook's Communication starts at SEV1–2: the findings that decided such a verdict lead to declaring the incident. */
const OPEN_INCIDENT = 'aegis-ir incident open --from-triage';

function withIncidentNext(report: Report): Report {
  if (report.severity !== 'SEV1' && report.severity !== 'SEV2') return report;
  const severity = report.severity;
  return {
    ...report,
    findings: report.findings.map((f) => (f.severity === severity && !f.next.includes(OPEN_INCIDENT) ? { ...f, next: [...f.next, OPEN_INCIDENT] } : f)),
  };
}
