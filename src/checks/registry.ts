import type { Config } from '../core/config.js';
import { aiSettingsCheck } from './ai-provider/ai-settings.js';
import { aiFeatureBroken, decideAiProviderRemediation } from './ai-provider/decision.js';
import { providerLogsCheck } from './ai-provider/provider-logs.js';
import { statusPageChecks } from './ai-provider/status-page.js';
import type { Check } from './check.js';
import type { DiagnoseSectionName } from './sections.js';
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
import { heapProfileCheck, heapProfileRequest } from './memory/heap-profile.js';
import { memoryTrendCheck } from './memory/memory-trend.js';
import { memoryUsageCheck } from './memory/memory-usage.js';
import { oomHistoryCheck } from './memory/oom-history.js';
import { decideMemoryRemediation } from './memory/remediation-decision.js';
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

/** The checks of a `diagnose <section>` (its help: {@link DIAGNOSE_SECTION_INFO}). */
export interface DiagnoseSection {
  checks: readonly Check[];
  /** Checks that follow from the configuration (one per AI provider), run with the others. */
  configured?: (config: Config) => Check[];
  correlations?: readonly Correlate[];
  /** The checks as the section's own flags shape them. */
  withOptions?: (options: Record<string, unknown>, config: Config) => readonly Check[];
}

/** Sections of `diagnose`, by name. */
export const DIAGNOSE_SECTIONS: Record<DiagnoseSectionName, DiagnoseSection> = {
  'api-errors': {
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
    configured: triageConfiguredChecks,
    correlations: [nameSuspectRollout, aiFeatureBroken, decideApiErrorRemediation],
  },
  'db-connections': {
    checks: [dbConnectionsCheck],
  },
  'ai-provider': {
    checks: [providerLogsCheck, componentHealthCheck, aiSettingsCheck],
    configured: (config) => statusPageChecks(config, { whenAiUnhealthy: false }),
    correlations: [aiFeatureBroken, decideAiProviderRemediation],
  },
  memory: {
    checks: [memoryUsageCheck, oomHistoryCheck, memoryTrendCheck, heapProfileCheck()],
    correlations: [decideMemoryRemediation],
    withOptions: (options, config) => [memoryUsageCheck, oomHistoryCheck, memoryTrendCheck, heapProfileCheck(heapProfileRequest(options, config))],
  },
};
