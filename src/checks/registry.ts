import type { Check } from './check.js';
import type { Correlate } from './assess.js';
import { logShapesCheck } from './api-errors/log-shapes.js';
import { decideApiErrorRemediation } from './api-errors/remediation-decision.js';
import { dbConnectionsCheck } from './database/db-connections.js';
import { errorLogsCheck } from './kubernetes/error-logs.js';
import { healthExecCheck } from './kubernetes/health-exec.js';
import { podHealthCheck } from './kubernetes/pod-health.js';
import { recentRolloutsCheck } from './kubernetes/recent-rollouts.js';
import { resourceUsageCheck } from './kubernetes/resource-usage.js';
import { nameSuspectRollout } from './kubernetes/rollout-suspect.js';
import { componentHealthCheck } from './prometheus/component-health.js';
import { errorRateCheck } from './prometheus/error-rate.js';
import { findingsTrendCheck } from './prometheus/findings-trend.js';
import { latencyCheck } from './prometheus/latency.js';

/** The checks `triage` runs: steps 1–3 of the runbook's Triage Procedure. */
export const TRIAGE_CHECKS: readonly Check[] = [
  podHealthCheck,
  resourceUsageCheck,
  recentRolloutsCheck,
  errorLogsCheck,
  healthExecCheck,
  // Skips itself when no database is configured.
  dbConnectionsCheck,
  // The runbook's key metrics; each skips itself, saying so, when no Prometheus is configured.
  errorRateCheck,
  latencyCheck,
  componentHealthCheck,
];

/** Cross-check rules applied after triage's checks. */
export const TRIAGE_CORRELATIONS: readonly Correlate[] = [nameSuspectRollout];

/** A `diagnose <section>`: one "Common Issue" of the runbook. */
export interface DiagnoseSection {
  /** The runbook issue it implements, for --help. */
  summary: string;
  checks: readonly Check[];
  correlations?: readonly Correlate[];
}

/** Sections of `diagnose`, by name. */
export const DIAGNOSE_SECTIONS: Record<string, DiagnoseSection> = {
  'api-errors': {
    summary:
      'High API Error Rate: error rate and p99 per endpoint, ERROR/FATAL log shapes, CPU/memory vs limits, OOMKills, ' +
      'database reachability, component health, rollouts against the rise; ends with the remediation to run',
    checks: [
      errorRateCheck,
      latencyCheck,
      logShapesCheck,
      resourceUsageCheck,
      podHealthCheck,
      healthExecCheck,
      dbConnectionsCheck,
      componentHealthCheck,
      findingsTrendCheck,
      recentRolloutsCheck,
    ],
    correlations: [nameSuspectRollout, decideApiErrorRemediation],
  },
  'db-connections': {
    summary: 'Database Connection Failures: connections by state/user/app vs the usable limit, idle ages, locks, PgBouncer',
    checks: [dbConnectionsCheck],
  },
};
