import { defineFinding } from '../../core/findings.js';

interface ErrorRateParams {
  rate: string;
  window: string;
  objective: string;
  /** ` mostly on POST /api/analyze (…)` or empty. */
  where: string;
}

const errorRateSummary = (p: ErrorRateParams) =>
  `error rate ${p.rate} of requests over the last ${p.window} (objective < ${p.objective})${p.where}`;

/** Finding codes of the Prometheus checks (AEG-30xx). */
export const PROMETHEUS_FINDINGS = {
  errorRateOutage: defineFinding<ErrorRateParams>({
    code: 'AEG-3001',
    title: 'Error rate: service down',
    severity: 'SEV1',
    anchor: 'incident-classification',
    summary: errorRateSummary,
  }),
  errorRateMajor: defineFinding<ErrorRateParams>({
    code: 'AEG-3002',
    title: 'Error rate: major degradation',
    severity: 'SEV2',
    anchor: 'incident-classification',
    summary: errorRateSummary,
  }),
  errorRateAboveObjective: defineFinding<ErrorRateParams>({
    code: 'AEG-3003',
    title: 'Error rate above objective',
    severity: 'SEV3',
    anchor: 'issue-high-api-error-rate',
    summary: errorRateSummary,
  }),
  latencyHigh: defineFinding<{ p99: string; window: string; objective: string; scope: string }>({
    code: 'AEG-3010',
    title: 'p99 latency above objective',
    severity: 'SEV3',
    anchor: 'key-metrics',
    summary: (p) => `p99 latency ${p.p99} over the last ${p.window} (objective < ${p.objective})${p.scope}`,
  }),
  endpointSlow: defineFinding<{ route: string; p99: string; objective: string; others: number }>({
    code: 'AEG-3011',
    title: 'Single endpoint slow',
    severity: 'SEV3',
    anchor: 'incident-classification',
    summary: (p) =>
      `endpoint ${p.route} is slow: p99 ${p.p99} (objective < ${p.objective}) while ${p.others} other endpoint(s) are within it`,
  }),
  componentUnhealthy: defineFinding<{ component: string; metric: string; down: number; instances: number }>({
    code: 'AEG-3020',
    title: 'Component reports unhealthy',
    severity: 'SEV3',
    anchor: 'key-metrics',
    summary: (p) =>
      `component ${p.component} is unhealthy (${p.metric} below 1) on ${p.down === p.instances ? `all ${p.instances}` : `${p.down} of ${p.instances}`} instance(s)`,
  }),
  findingsTrend: defineFinding<{ metric: string; direction: 'rose' | 'fell'; from: number; to: number; window: string }>({
    code: 'AEG-3030',
    title: 'Active findings changed sharply',
    severity: null,
    anchor: 'key-metrics',
    summary: (p) => `${p.metric} ${p.direction} from ${p.from} to ${p.to} over the last ${p.window}`,
  }),
};
