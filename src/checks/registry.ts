import type { Config } from '../core/config.js';
import { aiSettingsCheck } from './ai-provider/ai-settings.js';
import { aiFeatureBroken, decideAiProviderRemediation } from './ai-provider/decision.js';
import { providerLogsCheck } from './ai-provider/provider-logs.js';
import { statusPageChecks } from './ai-provider/status-page.js';
import type { Check } from './check.js';
import { triageConfiguredChecks } from './triage-checks.js';
import type { DiagnoseSectionName } from './sections.js';
import type { Correlate } from './assess.js';
import { logShapesCheck } from './api-errors/log-shapes.js';
import { decideApiErrorRemediation } from './api-errors/remediation-decision.js';
import { dbConnectionsCheck } from './database/db-connections.js';
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
