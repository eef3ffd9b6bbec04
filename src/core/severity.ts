/**
 * The runbook's Incident Classification and Escalation Matrix as data, and how severities compare.
 * The classifier that turns findings into a verdict is `classify` in checks/verdict.ts.
 */

/** SEV1 is the worst; SEV4 the mildest. */
export const SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** `--fail-on` accepts a severity or `never`. */
export type FailOn = Severity | 'never';

/** A `--fail-on` value as typed, in any case (`sev2`, `2`, `Never`), or undefined when it is not one. */
export function parseFailOn(text: string): FailOn | undefined {
  return text.trim().toLowerCase() === 'never' ? 'never' : parseSeverity(text);
}

export interface EscalationStep {
  /** Elapsed time since the incident was declared, as the runbook writes it. */
  after: string;
  to: string;
}

export interface SeverityClass {
  description: string;
  responseTime: string;
  escalation: EscalationStep[];
}

/** Incident Classification and Escalation Matrix of the runbook. */
export const SEVERITY_CLASSES: Record<Severity, SeverityClass> = {
  SEV1: {
    description: 'Service down, data loss risk',
    responseTime: '15m',
    escalation: [
      { after: '0m', to: 'On-Call' },
      { after: '30m', to: 'Engineering Manager' },
      { after: '1h', to: 'VP Engineering' },
    ],
  },
  SEV2: {
    description: 'Major degradation',
    responseTime: '30m',
    escalation: [
      { after: '0m', to: 'On-Call' },
      { after: '30m', to: 'Tech Lead' },
      { after: '1h', to: 'Engineering Manager' },
    ],
  },
  SEV3: {
    description: 'Minor degradation',
    responseTime: '2h',
    escalation: [
      { after: '0m', to: 'On-Call' },
      { after: '30m', to: 'Tech Lead' },
    ],
  },
  SEV4: {
    description: 'Low impact',
    responseTime: '1 business day',
    escalation: [{ after: '0m', to: 'Assigned Engineer' }],
  },
};

/** 0 for SEV1 … 3 for SEV4; lower is worse. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** The worse of two severities (null means none). */
export function worstSeverity(a: Severity | null, b: Severity | null): Severity | null {
  if (a === null) return b;
  if (b === null) return a;
  return severityRank(a) <= severityRank(b) ? a : b;
}

/** Whether `severity` is at or above the `--fail-on` threshold. */
export function meetsFailOn(severity: Severity | null, failOn: FailOn): boolean {
  if (severity === null || failOn === 'never') return false;
  return severityRank(severity) <= severityRank(failOn);
}

/** Parses `SEV2`, `sev2` or `2` (as `incident open --sev 2` users type it). */
export function parseSeverity(text: string): Severity | undefined {
  const upper = text.trim().toUpperCase();
  const candidate = /^\d$/.test(upper) ? `SEV${upper}` : upper;
  return (SEVERITIES as readonly string[]).includes(candidate) ? (candidate as Severity) : undefined;
}
