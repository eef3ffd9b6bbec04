import type { ClustersReport, Report } from '../checks/verdict.js';
import type { Context } from '../core/context.js';
import { ExitCode } from '../core/errors.js';
import { meetsFailOn } from '../core/severity.js';
import { neutraliseAll } from '../core/neutralise.js';
import { clustersDocument, clustersText } from '../render/clusters.js';
import { print, type Printable } from '../render/output.js';
import { reportDocument, reportText } from '../render/report.js';

/**
 * Prints a triage/diagnose report in the chosen format and returns the exit code SPEC gives it:
 * 3 when a severity at or above --fail-on was classified, else 4 when the verdict is incomplete (a
 * target unreachable, a check that could not run), else 0. Several clusters' report shows each cluster.
 */
export async function emitReport(ctx: Context, report: Report | ClustersReport, verbose: boolean): Promise<number> {
  const clusters = 'clusters' in report ? report : null;
  if (report.assessedNothing && ctx.config.output === 'text' && !clusters) {
    // Nothing could be assessed: one clear line beats a page of identical errors.
    const failed = report.checks.find((c) => c.unreachable) ?? report.checks.find((c) => c.status === 'errored');
    const reason = failed?.error ?? report.severityReason;
    ctx.io.stderr.write(`aegis-ir: ${reason}${failed?.hint ? `\n  try: ${failed.hint}` : ''}\n`);
    return ExitCode.unreachable;
  }
  await print(ctx, reportPrintable(report), verbose);
  if (meetsFailOn(report.severity, ctx.config.failOn)) return ExitCode.severity;
  if (report.unknown.length || report.assessedNothing) {
    for (const unknown of report.unknown) ctx.io.stderr.write(`aegis-ir: verdict incomplete: ${unknown}\n`);
    return ExitCode.unreachable;
  }
  return ExitCode.ok;
}

/** A triage or diagnose report (of one cluster or several), printable in every format. */
function reportPrintable(report: Report | ClustersReport): Printable {
  // What the cluster, the database or a web page said is shown escaped on a terminal, never obeyed.
  if ('clusters' in report) return { document: clustersDocument(report), text: (options) => clustersText(neutraliseAll(report), options), report };
  return { document: reportDocument(report), text: (options) => reportText(neutraliseAll(report), options), report };
}
