import { defineFinding } from '../../core/findings.js';

/** Finding codes of `diagnose api-errors` beyond its shared checks (AEG-305x). */
export const API_ERROR_FINDINGS = {
  logShape: defineFinding<{ count: number; level: string; pods: number; shape: string }>({
    code: 'AEG-3050',
    title: 'Repeated error log line',
    severity: null,
    anchor: 'issue-high-api-error-rate',
    summary: (p) => `${p.count}× ${p.level} in ${p.pods} pod(s): ${p.shape}`,
  }),
  remediation: defineFinding<{ cause: string; evidence: string; action: string }>({
    code: 'AEG-3055',
    title: 'Remediation decision',
    severity: null,
    anchor: 'issue-high-api-error-rate',
    summary: (p) => `likely cause: ${p.cause} (${p.evidence}); remediation: ${p.action}`,
  }),
  noCause: defineFinding<{ symptoms: string }>({
    code: 'AEG-3056',
    title: 'No cause stands out',
    severity: null,
    anchor: 'issue-high-api-error-rate',
    summary: (p) =>
      `${p.symptoms}, but none of the runbook's causes (rollout, OOM, CPU, database, external dependency) shows in the evidence`,
  }),
};
