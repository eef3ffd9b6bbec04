import type { ClustersReport } from '../checks/verdict.js';
import { reportDocument, reportText, verdictLines } from './report.js';
import { paint } from './style.js';

/**
 * The JSON document of a triage over several clusters: the combined verdict at the top, every finding and
 * check tagged with its `cluster`, and `clusters[]` holding each cluster's own document (as
 * `triage --context NAME` prints it, without `schemaVersion` and `command`).
 */
export function clustersDocument(report: ClustersReport): Record<string, unknown> {
  const clusters: Array<Record<string, unknown>> = report.clusters.map(({ context, report: one }) => {
    const { schemaVersion: _version, command: _command, ...document } = reportDocument(one);
    return { context, ...document };
  });
  const tagged = (key: 'findings' | 'checks') =>
    clusters.flatMap((cluster) => (cluster[key] as Array<Record<string, unknown>>).map((item) => ({ cluster: cluster.context, ...item })));
  const { findings: _findings, checks: _checks, ...verdict } = reportDocument({ ...report, findings: [], checks: [] });
  return { ...verdict, findings: tagged('findings'), checks: tagged('checks'), clusters };
}

/** For a terminal: the combined verdict and each cluster's verdict in one line, then each cluster's report. */
export function clustersText(report: ClustersReport, options: { color: boolean; verbose: boolean }): string {
  const c = paint(options.color);
  const lines = [...verdictLines(report, c), '', c.bold('Clusters')];
  const width = Math.max(...report.clusters.map((s) => s.context.length));
  for (const { context, report: one } of report.clusters) {
    const verdict = one.severity ?? (one.assessedNothing || one.unknown.length ? 'UNKNOWN' : 'HEALTHY');
    lines.push(`  ${context.padEnd(width)}  ${verdict}`);
  }
  for (const { context, report: one } of report.clusters) {
    lines.push('', c.bold.underline(`Cluster ${context}`), reportText(one, options).trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
