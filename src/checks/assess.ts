import type { Context } from '../core/context.js';
import type { Finding } from '../core/findings.js';
import type { Check } from './check.js';
import { runChecks } from './runner.js';
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
    return classify(command, outcomes, correlate.flatMap((derive) => derive(findings, now)));
  } finally {
    progress.stop();
  }
}
