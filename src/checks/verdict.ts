import type { Finding } from '../core/findings.js';
import { shellWord } from '../core/shell.js';
import { withFlags, type UnavailableNext } from './next-steps.js';
import { SEVERITY_CLASSES, worstSeverity, type EscalationStep, type Severity } from '../core/severity.js';
import type { Impact } from './impact.js';
import type { CheckOutcome } from './runner.js';

/**
 * The result of `triage` and `diagnose`: the verdict, the findings behind it and what each check did.
 * Rendered as text or as SPEC's JSON document.
 */
export interface Report {
  command: string;
  severity: Severity | null;
  severityReason: string;
  responseTime: string | null;
  escalation: EscalationStep[];
  findings: Finding[];
  checks: CheckOutcome[];
  /** What could not be assessed (a target unreachable, a check that failed), so the verdict may be worse than it says. */
  unknown: string[];
  /** Nothing could be assessed at all. */
  assessedNothing: boolean;
  /** Next commands left out because their target is not configured, with what to configure. */
  unavailableNext?: UnavailableNext[];
  /** The findings' next commands as a person pastes them here: with the run's target flags. */
  nextCommands?: string[];
  /** Step 2 of the Triage Procedure, from `triage` and `diagnose`. */
  impact?: Impact;
}

/**
 * Classifies the incident from every check's findings: the worst severity any finding implies wins
 * and is named as the reason. A check that could not run never lowers the verdict; it is reported
 * as unknown, whether its target was unreachable or the check itself failed.
 */
export function classify(command: string, outcomes: CheckOutcome[], extraFindings: Finding[] = []): Report {
  const findings = [...outcomes.flatMap((o) => o.findings), ...extraFindings].sort(
    (a, b) => rankOf(a.severity) - rankOf(b.severity),
  );
  const severity = findings.reduce<Severity | null>((worst, f) => worstSeverity(worst, f.severity), null);
  const unknown = [
    ...new Set(
      outcomes
        .filter((o) => o.status === 'errored')
        .map((o) => (o.unreachable ? `${o.target} unreachable (${o.error})` : `${o.id} failed (${o.error})`)),
    ),
  ];
  const assessedNothing = outcomes.length > 0 && outcomes.every((o) => o.status === 'errored' || o.status === 'skipped');
  const deciding = severity ? findings.filter((f) => f.severity === severity) : [];
  let severityReason = reasonOf(deciding);
  if (!severity) {
    // With nothing errored, every check skipped itself: its reason is what the operator has to fix.
    const why = unknown.length ? unknown : outcomes.map((o) => `${o.id} skipped: ${o.reason}`);
    severityReason = assessedNothing
      ? `unknown: nothing could be assessed: ${why.join(', ')}`
      : unknown.length
        ? `no finding among the checks that ran; unknown: ${unknown.join(', ')}`
        : skippedWording(outcomes, findings.length);
  }
  return {
    command,
    severity,
    severityReason,
    responseTime: severity ? SEVERITY_CLASSES[severity].responseTime : null,
    escalation: severity ? SEVERITY_CLASSES[severity].escalation : [],
    findings,
    checks: outcomes,
    unknown,
    assessedNothing,
  };
}

/**
 * A healthy verdict says what it did not look at: "no problem found; 4 of 9 checks skipped: …",
 * and that error rates were not measured when no Prometheus was there to measure them.
 */
function skippedWording(outcomes: CheckOutcome[], informational: number): string {
  const found = informational ? `no finding implies a severity (${informational} informational)` : null;
  const skipped = outcomes.filter((o) => o.status === 'skipped');
  if (!skipped.length) return found ?? 'all checks ok';
  const byReason = new Map<string, string[]>();
  for (const o of skipped) {
    // The reason's first words; the full reason, with the flag to pass, is in the check's own line.
    const reason = (o.reason ?? 'skipped').split(' (')[0] as string;
    byReason.set(reason, [...(byReason.get(reason) ?? []), o.id]);
  }
  const list = [...byReason].map(([reason, ids]) => `${ids.join(', ')} (${reason})`).join(', ');
  const unmeasured = skipped.some((o) => o.id === 'error-rate') ? '; error rates were not measured' : '';
  return `${found ?? 'no problem found'}; ${skipped.length} of ${outcomes.length} checks skipped: ${list}${unmeasured}`;
}

/** The deciding findings in one line; several of one code (three pods at their CPU limit) read as one. */
function reasonOf(deciding: Finding[]): string {
  const byCode = new Map<string, Finding[]>();
  for (const f of deciding) byCode.set(f.code, [...(byCode.get(f.code) ?? []), f]);
  return [...byCode]
    .map(([code, [first, ...more]]) => `${code} ${first?.summary}${more.length ? ` (and ${more.length} more like it)` : ''}`)
    .join('; ');
}

function rankOf(severity: Severity | null): number {
  return severity ? Number(severity.slice(3)) : 9;
}

/** One cluster's triage among several (`--context` repeated, or `--all-contexts`). */
export interface ClusterReport {
  /** The kubeconfig context the cluster was reached through. */
  context: string;
  report: Report;
}

/** Several clusters triaged at once: the worst verdict of any decides; each cluster's report is kept whole. */
export interface ClustersReport extends Report {
  clusters: ClusterReport[];
}

/**
 * Combines the reports of several clusters: the worst severity wins and names the cluster(s) it came
 * from; what any cluster could not assess stays unknown, under that cluster's name. Each cluster's next
 * commands carry its `--context`, so they run against the cluster that needs them.
 */
export function combineClusters(command: string, clusters: ClusterReport[]): ClustersReport {
  const sections = clusters.map(({ context, report }) => ({
    context,
    report: {
      ...report,
      findings: report.findings.map((f) => ({ ...f, next: f.next.map((n) => withFlags(n, ['--context', shellWord(context)])) })),
      nextCommands: report.nextCommands?.map((n) => withFlags(n, ['--context', shellWord(context)])),
    },
  }));
  const severity = sections.reduce<Severity | null>((worst, s) => worstSeverity(worst, s.report.severity), null);
  const deciding = severity ? sections.filter((s) => s.report.severity === severity) : sections;
  return {
    command,
    severity,
    severityReason: deciding.map((s) => `${s.context}: ${s.report.severityReason}`).join('; '),
    responseTime: severity ? SEVERITY_CLASSES[severity].responseTime : null,
    escalation: severity ? SEVERITY_CLASSES[severity].escalation : [],
    findings: sections.flatMap((s) => s.report.findings),
    checks: sections.flatMap((s) => s.report.checks),
    unknown: sections.flatMap((s) => s.report.unknown.map((u) => `${s.context}: ${u}`)),
    assessedNothing: sections.every((s) => s.report.assessedNothing),
    clusters: sections,
  };
}

/** A context name as one shell word (EKS names hold `:` and `/`, which are safe; spaces and quotes are not). */
