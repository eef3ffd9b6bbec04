import type { Check } from './check.js';
import { errorLogsCheck } from './kubernetes/error-logs.js';
import { healthExecCheck } from './kubernetes/health-exec.js';
import { podHealthCheck } from './kubernetes/pod-health.js';
import { recentRolloutsCheck } from './kubernetes/recent-rollouts.js';
import { resourceUsageCheck } from './kubernetes/resource-usage.js';

/** The checks `triage` runs: steps 1–3 of the runbook's Triage Procedure. */
export const TRIAGE_CHECKS: readonly Check[] = [
  podHealthCheck,
  resourceUsageCheck,
  recentRolloutsCheck,
  errorLogsCheck,
  healthExecCheck,
];
