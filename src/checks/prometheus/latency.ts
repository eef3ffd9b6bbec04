import { formatDuration } from '../../core/duration.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import { promQueries } from '../../prometheus/queries.js';
import { defineCheck, type EvaluationEnv } from '../check.js';
import { PROMETHEUS_FINDINGS as F } from './findings.js';
import { badSince, configuredPrometheus, perRoute, requestValue, requireSeries, trendOf, trendRange, type TrendPoint } from './source.js';

/** Evidence of the latency check; latencies in seconds, as the histogram records them. */
export interface LatencyEvidence {
  query: string;
  windowMs: number;
  p99Seconds: number;
  routeLabel: string | null;
  routes: Array<{ route: string; p99Seconds: number }>;
  trend: TrendPoint[];
}

/**
 * p99 latency, the runbook's second key metric, from the request-duration histogram; per endpoint
 * too when it carries a route label. One slow endpoint among healthy ones is the runbook's SEV3
 * example "single endpoint slow" and is named; everything slow is the service's p99 above the 500 ms
 * objective (SEV3 as well, but a different investigation: CPU, database, a dependency).
 */
export const latencyCheck = defineCheck<LatencyEvidence>({
  id: 'latency',
  title: 'p99 latency (Prometheus)',
  target: 'prometheus',
  async collect(ctx) {
    const prometheus = await configuredPrometheus(ctx);
    const settings = ctx.config.prometheus;
    const q = promQueries(settings);
    const now = ctx.clock.now();
    await requireSeries(prometheus, q.durationSeries, `${settings.metrics.duration}_bucket`, now, ctx.signal);
    const [overall, byRoute, trend] = await Promise.all([
      prometheus.query(q.latencyP99, now, ctx.signal),
      prometheus.query(q.latencyP99ByRoute, now, ctx.signal),
      prometheus.queryRange(q.latencyP99, trendRange(ctx), ctx.signal),
    ]);
    const p99Seconds = requestValue(overall, `${settings.metrics.duration}_bucket`, ctx, prometheus.url);
    // NaN: the endpoint had no requests in the window, so it has no p99.
    const { routeLabel, routes } = perRoute(byRoute, settings.routeLabels, (route, value) =>
      Number.isNaN(value) ? null : { route, p99Seconds: value },
    );
    return {
      query: q.latencyP99,
      windowMs: settings.rateWindow,
      p99Seconds,
      routeLabel,
      routes: routes.sort((a, b) => b.p99Seconds - a.p99Seconds),
      trend: trendOf(trend[0]?.points ?? []),
    };
  },
  evaluate: evaluateLatency,
});

export function evaluateLatency(evidence: LatencyEvidence, env: EvaluationEnv): Finding[] {
  const objectiveSeconds = env.config.thresholds.latencyP99 / 1000;
  const objective = formatDuration(env.config.thresholds.latencyP99);
  const window = formatDuration(evidence.windowMs);
  const slow = evidence.routes.filter((r) => r.p99Seconds > objectiveSeconds);
  if (slow.length && slow.length < evidence.routes.length) {
    return slow.map((r) =>
      makeFinding(F.endpointSlow, {
        check: 'latency',
        params: { route: r.route, p99: seconds(r.p99Seconds), objective, others: evidence.routes.length - slow.length },
        evidence: { route: r.route, routeLabel: evidence.routeLabel, p99Seconds: r.p99Seconds, serviceP99Seconds: evidence.p99Seconds, routes: evidence.routes },
        next: ['aegis-ir diagnose api-errors'],
      }),
    );
  }
  // Every endpoint slow (or no endpoint label): the service's p99 speaks for all of them.
  if (evidence.p99Seconds <= objectiveSeconds) return [];
  const since = badSince(evidence.trend, (value) => value > objectiveSeconds);
  return [
    makeFinding(F.latencyHigh, {
      check: 'latency',
      params: {
        p99: seconds(evidence.p99Seconds),
        window,
        objective,
        scope: slow.length > 1 ? ` on every endpoint (${slow.length})` : '',
      },
      evidence: { p99Seconds: evidence.p99Seconds, query: evidence.query, ...(evidence.routeLabel ? { routes: evidence.routes } : {}), risingSince: since },
      next: ['aegis-ir diagnose api-errors'],
      since,
    }),
  ];
}

/** Latencies keep their precision: `800ms`, `1.4s` (formatDuration would floor to `1s`). */
function seconds(value: number): string {
  if (value === Infinity) return 'beyond the largest bucket';
  return value < 1 ? `${Math.round(value * 1000)}ms` : `${Number(value.toPrecision(3))}s`;
}
