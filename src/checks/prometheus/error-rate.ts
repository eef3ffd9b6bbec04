import { formatDuration } from '../../core/duration.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import { promQueries } from '../../prometheus/queries.js';
import { defineCheck, type EvaluationEnv } from '../check.js';
import { PROMETHEUS_FINDINGS as F } from './findings.js';
import { badSince, configuredPrometheus, formatPercent, perRoute, requestValue, requireSeries, trendOf, trendRange, type TrendPoint } from './source.js';

/** One endpoint's traffic over the rate window. */
export interface RouteErrors {
  route: string;
  requestsPerSecond: number;
  errorsPerSecond: number;
  errorRatio: number;
}

/** Evidence of the error-rate check. */
export interface ErrorRateEvidence {
  query: string;
  windowMs: number;
  /** Share of requests answered 5xx over the window. */
  errorRatio: number;
  /** The label that names endpoints on the request metric, when it carries one. */
  routeLabel: string | null;
  routes: RouteErrors[];
  /** The error ratio over the trend window, to date the rise. */
  trend: TrendPoint[];
}

/** Endpoints listed in a finding's evidence. */
const ROUTES_SHOWN = 5;

/**
 * Error rate, the runbook's first key metric: `sum(rate(5xx[5m])) / sum(rate(all[5m]))`, plus the same
 * split per endpoint when the request metric carries a route label, and the ratio's trend to date
 * its rise (which is what a rollout is compared against). SPEC: ≥ 95% SEV1, ≥ 50% SEV2, above the
 * 0.1% objective SEV3. Skipped when Prometheus is not configured or the requests had no traffic in
 * the window; errored when it has no series of the request metric at all (wrong URL, name or matchers).
 */
export const errorRateCheck = defineCheck<ErrorRateEvidence>({
  id: 'error-rate',
  title: 'API error rate (Prometheus)',
  target: 'prometheus',
  async collect(ctx) {
    const prometheus = await configuredPrometheus(ctx);
    const settings = ctx.config.prometheus;
    const q = promQueries(settings);
    const now = ctx.clock.now();
    await requireSeries(prometheus, q.requestSeries, settings.metrics.requests, now, ctx.signal);
    const [ratio, requests, errors, trend] = await Promise.all([
      prometheus.query(q.errorRatio, now, ctx.signal),
      prometheus.query(q.requestsByRoute, now, ctx.signal),
      prometheus.query(q.errorsByRoute, now, ctx.signal),
      prometheus.queryRange(q.errorRatio, trendRange(ctx), ctx.signal),
    ]);
    const errorRatio = requestValue(ratio, settings.metrics.requests, ctx, prometheus.url);
    const errorsOf = new Map(perRoute(errors, settings.routeLabels, (route, value) => [route, value] as const).routes);
    const { routeLabel, routes } = perRoute(requests, settings.routeLabels, (route, requestsPerSecond): RouteErrors | null => {
      if (requestsPerSecond <= 0) return null;
      const errorsPerSecond = errorsOf.get(route) ?? 0;
      return { route, requestsPerSecond, errorsPerSecond, errorRatio: errorsPerSecond / requestsPerSecond };
    });
    return {
      query: q.errorRatio,
      windowMs: settings.rateWindow,
      errorRatio,
      routeLabel,
      routes: routes.sort((a, b) => b.errorsPerSecond - a.errorsPerSecond),
      trend: trendOf(trend[0]?.points ?? []),
    };
  },
  evaluate: evaluateErrorRate,
});

export function evaluateErrorRate(evidence: ErrorRateEvidence, env: EvaluationEnv): Finding[] {
  const { sev1, sev2, sev3 } = env.config.thresholds.errorRate;
  const ratio = evidence.errorRatio;
  if (ratio <= sev3) return [];
  const kind = ratio >= sev1 ? F.errorRateOutage : ratio >= sev2 ? F.errorRateMajor : F.errorRateAboveObjective;
  const failing = evidence.routes.filter((r) => r.errorsPerSecond > 0);
  const [worst] = failing;
  const totalErrors = failing.reduce((n, r) => n + r.errorsPerSecond, 0);
  // Naming an endpoint helps only when the errors are not spread evenly over all of them.
  const where =
    worst && failing.length < evidence.routes.length
      ? ` mostly on ${worst.route} (${formatPercent(worst.errorsPerSecond / totalErrors)} of the errors, ${formatPercent(worst.errorRatio)} of its requests fail)`
      : '';
  const since = badSince(evidence.trend, (value) => value > sev3);
  return [
    makeFinding(kind, {
      check: 'error-rate',
      params: { rate: formatPercent(ratio), window: formatDuration(evidence.windowMs), objective: formatPercent(sev3), where },
      evidence: {
        errorRatio: ratio,
        query: evidence.query,
        ...(evidence.routeLabel ? { routeLabel: evidence.routeLabel, routes: evidence.routes.slice(0, ROUTES_SHOWN) } : {}),
        risingSince: since,
      },
      next: ['aegis-ir diagnose api-errors'],
      since,
    }),
  ];
}
