import { formatDuration } from '../../core/duration.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import { promQueries } from '../../prometheus/queries.js';
import { SkipCheck, defineCheck, type EvaluationEnv } from '../check.js';
import { PROMETHEUS_FINDINGS as F } from './findings.js';
import { configuredPrometheus, trendOf, trendRange, type TrendPoint } from './source.js';

/** Evidence of the findings-trend check. */
export interface FindingsTrendEvidence {
  metric: string;
  windowMs: number;
  trend: TrendPoint[];
}

/** A change of at least this share of the starting value is worth a look. */
const SHARP_CHANGE = 0.5;

/**
 * Active findings trend (`aegis_findings_active`), the runbook's third key metric: Cloud Aegis's
 * own count of open security findings. A sharp rise or fall during an incident is context (a
 * scanner flooding the API, or one that stopped reporting), not a severity of its own.
 */
export const findingsTrendCheck = defineCheck<FindingsTrendEvidence>({
  id: 'findings-trend',
  title: 'Active findings trend (Prometheus)',
  target: 'prometheus',
  async collect(ctx) {
    const prometheus = await configuredPrometheus(ctx);
    const settings = ctx.config.prometheus;
    const [series] = await prometheus.queryRange(promQueries(settings).findingsActive, trendRange(ctx), ctx.signal);
    if (!series?.points.length) throw new SkipCheck(`no ${settings.metrics.findingsActive} series at ${prometheus.url}`);
    return { metric: settings.metrics.findingsActive, windowMs: settings.trendWindow, trend: trendOf(series.points) };
  },
  evaluate: evaluateFindingsTrend,
});

export function evaluateFindingsTrend(evidence: FindingsTrendEvidence, _env: EvaluationEnv): Finding[] {
  // NaN (an instance reporting no number) compares with nothing; the change is read between real values.
  const known = evidence.trend.filter((p) => !Number.isNaN(p.value));
  const first = known[0];
  const last = known[known.length - 1];
  if (!first || !last || first === last) return [];
  const change = last.value - first.value;
  if (Math.abs(change) < SHARP_CHANGE * Math.max(first.value, 1)) return [];
  return [
    makeFinding(F.findingsTrend, {
      check: 'findings-trend',
      params: {
        metric: evidence.metric,
        direction: change > 0 ? 'rose' : 'fell',
        from: first.value,
        to: last.value,
        window: formatDuration(evidence.windowMs),
      },
      evidence: { from: first, to: last, peak: Math.max(...known.map((p) => p.value)) },
    }),
  ];
}
