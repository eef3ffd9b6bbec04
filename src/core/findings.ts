import type { Severity } from './severity.js';

/** How loud a finding is; it follows from the severity the finding implies. */
export type Level = 'critical' | 'error' | 'warn' | 'info';

/**
 * One observation a check made, as printed in the JSON document: a stable code from the catalogue,
 * what it means for the incident's severity, the evidence behind it, and the commands to run next.
 */
export interface Finding {
  code: string;
  check: string;
  level: Level;
  /** The severity this finding implies on its own; null for context that does not change the verdict. */
  severity: Severity | null;
  summary: string;
  resource: string | null;
  evidence: Record<string, unknown>;
  runbook: string;
  next: string[];
  /** When the symptom began (ISO 8601), if known; used to tell whether a rollout preceded it. */
  since?: string;
}

/** Level implied by a severity: SEV1 critical, SEV2 error, SEV3 warn, SEV4 and none info. */
export function levelFor(severity: Severity | null): Level {
  switch (severity) {
    case 'SEV1':
      return 'critical';
    case 'SEV2':
      return 'error';
    case 'SEV3':
      return 'warn';
    default:
      return 'info';
  }
}

/**
 * A catalogue entry: a finding's stable code, its default severity and runbook anchor, and the
 * summary template filled from the check's parameters.
 */
export interface FindingKind<P> {
  code: string;
  title: string;
  severity: Severity | null;
  /** Anchor in runbooks/incident-response.md. */
  anchor: string;
  summary: (params: P) => string;
}

/** Declares a catalogue entry with typed summary parameters. */
export function defineFinding<P>(kind: FindingKind<P>): FindingKind<P> {
  return kind;
}

/** The file findings link to. */
export const RUNBOOK_FILE = 'runbooks/incident-response.md';

/** A finding's runbook link as the command that shows it: `aegis-ir runbook issue-high-memory-usage`. */
export function runbookCommandOf(link: string): string {
  const anchor = link.split('#')[1];
  return anchor ? `aegis-ir runbook ${anchor}` : 'aegis-ir runbook';
}

export interface FindingInput<P> {
  check: string;
  params: P;
  resource?: string | null;
  evidence?: Record<string, unknown>;
  next?: string[];
  since?: Date | string | null;
}

/** Builds a finding from its catalogue entry, so code, level, severity and runbook link never drift. */
export function makeFinding<P>(kind: FindingKind<P>, input: FindingInput<P>): Finding {
  const finding: Finding = {
    code: kind.code,
    check: input.check,
    level: levelFor(kind.severity),
    severity: kind.severity,
    summary: kind.summary(input.params),
    resource: input.resource ?? null,
    evidence: input.evidence ?? {},
    runbook: `${RUNBOOK_FILE}#${kind.anchor}`,
    next: input.next ?? [],
  };
  if (input.since) finding.since = new Date(input.since).toISOString();
  return finding;
}

/** The same finding on several pods, told once: "AEG-1030 on 3 pods: a, b, c — …". */
export interface FindingGroup<F> {
  finding: F;
  summary: string;
  pods: string[];
}

/**
 * Findings grouped when they differ only in the pod they are about (and, for those that carry it, in nothing
 * else of their evidence), in the order of their first.
 */
export function groupAcrossPods<F extends Pick<Finding, 'code' | 'summary' | 'resource'> & { evidence?: Finding['evidence'] }>(findings: readonly F[]): FindingGroup<F>[] {
  const groups = new Map<string, FindingGroup<F>>();
  for (const finding of findings) {
    const pod = finding.resource?.startsWith('pod/') ? finding.resource.slice(4) : null;
    // The summary with the pod's name taken out; "<pod>: " and "<pod>/<container> " lead most of them.
    const shape = pod ? finding.summary.split(pod).join('<pod>') : null;
    const key = shape ? `${finding.code} ${shape} ${JSON.stringify({ ...finding.evidence, pod: undefined })}` : `${groups.size}`;
    const group = groups.get(key);
    if (group && pod) {
      group.pods.push(pod);
      continue;
    }
    groups.set(key, { finding, summary: finding.summary, pods: pod ? [pod] : [] });
  }
  return [...groups.values()].map((g) => {
    if (g.pods.length < 2) return g;
    const rest = g.finding.summary.split(g.pods[0] as string).join('').replace(/^[:/\s]+/, '');
    return { ...g, summary: `on ${g.pods.length} pods: ${g.pods.join(', ')} — ${rest}` };
  });
}
