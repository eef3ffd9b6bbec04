// triage's checks, apart from the diagnose sections (registry.ts): a triage loads its own checks and no others.
import type { Config } from '../core/config.js';
import { aiFeatureBroken } from './ai-provider/decision.js';
import { providerLogsCheck } from './ai-provider/provider-logs.js';
import { statusPageChecks } from './ai-provider/status-page.js';
import type { Correlate } from './assess.js';
import type { Check } from './check.js';
import { dbConnectionsCheck } from './database/db-connections.js';
import { errorLogsCheck } from './kubernetes/error-logs.js';
import { healthExecCheck } from './kubernetes/health-exec.js';
import { podHealthCheck } from './kubernetes/pod-health.js';
import { recentRolloutsCheck } from './kubernetes/recent-rollouts.js';
import { resourceUsageCheck } from './kubernetes/resource-usage.js';
import { nameSuspectRollout } from './kubernetes/rollout-suspect.js';
import { componentHealthCheck } from './prometheus/component-health.js';
import { errorRateCheck } from './prometheus/error-rate.js';
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
  // The runbook's grep for rate_limit: AI rate limits and timeouts are SEV3 before any status page says so.
  providerLogsCheck,
];

/**
 * Checks triage adds from the configuration: each AI provider's status page, read only when the app
 * reports its AI provider unhealthy (so the SEV2 "AI provider down and ai_provider health 0" holds).
 */
export function triageConfiguredChecks(config: Config): Check[] {
  return statusPageChecks(config, { whenAiUnhealthy: true });
}

/** Cross-check rules applied after triage's checks. */
export const TRIAGE_CORRELATIONS: readonly Correlate[] = [nameSuspectRollout, aiFeatureBroken];
