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
