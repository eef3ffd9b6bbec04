import type { Context } from '../../core/context.js';
import { formatDuration } from '../../core/duration.js';
import type { Point, PrometheusPort, QueryRange, Sample } from '../../prometheus/port.js';
import { SkipCheck } from '../check.js';

/** A trend point as evidence carries it: readable in fixtures and in `--output json`. */
export interface TrendPoint {
  at: string;
  value: number;
}

/** The run's Prometheus, or a skip naming how to configure one: metrics are optional evidence. */
export function configuredPrometheus(ctx: Context): Promise<PrometheusPort> {
  if (!ctx.config.prometheus.url) {
    throw new SkipCheck('no Prometheus configured (pass --prometheus-url, set PROMETHEUS_URL or prometheus.url)');
  }
  return ctx.prometheus();
}

/** The configured trend window, ending now. */
export function trendRange(ctx: Context): QueryRange {
  const end = ctx.clock.now();
  const { trendWindow, trendStep } = ctx.config.prometheus;
  return { start: new Date(end.getTime() - trendWindow), end, stepMs: trendStep };
}

export function trendOf(points: Point[]): TrendPoint[] {
  return points.map((p) => ({ at: new Date(p.time).toISOString(), value: p.value }));
}

/**
 * When the current bad stretch of a trend began: the first point of the run of bad points that
 * ends the trend. Null when the trend does not end bad (nothing to date). NaN (no traffic) is not bad.
 */
export function badSince(trend: TrendPoint[], isBad: (value: number) => boolean): string | null {
  let since: string | null = null;
  for (let i = trend.length - 1; i >= 0; i -= 1) {
    const point = trend[i] as TrendPoint;
    if (Number.isNaN(point.value) || !isBad(point.value)) break;
    since = point.at;
  }
  return since;
}

/**
 * Fails the check when the configured metric has no series at all. That is a wrong URL, metric
 * name or matcher, never "no errors": the evidence was asked for and not there.
 */
export async function requireSeries(prometheus: PrometheusPort, countQuery: string, metric: string, at: Date, signal: AbortSignal): Promise<void> {
  const [count] = await prometheus.query(countQuery, at, signal);
  if (!count || !(count.value > 0)) throw noSeries(metric);
}

/** The error of a configured metric Prometheus has no series of. */
export function noSeries(metric: string): Error {
  return new Error(`no series for ${metric} — wrong URL, wrong metric names or wrong matchers?`);
}

/**
 * The one value of an aggregated rate query, or a skip: no value (or NaN, 0/0) means the metric had
 * no requests in the window — no traffic, or the config names another metric.
 */
export function requestValue(samples: Sample[], metric: string, ctx: Context, url: string): number {
  const value = samples[0]?.value;
  if (value === undefined || Number.isNaN(value)) {
    throw new SkipCheck(`no requests in ${metric} over the last ${formatDuration(ctx.config.prometheus.rateWindow)} at ${url}`);
  }
  return value;
}

/**
 * Splits samples per endpoint by the first configured route label they carry; `entry` may drop a
 * sample by returning null. The label is null when no sample carries one (no per-route split).
 */
export function perRoute<T>(
  samples: Sample[],
  routeLabels: readonly string[],
  entry: (route: string, value: number) => T | null,
): { routeLabel: string | null; routes: T[] } {
  let routeLabel: string | null = null;
  const routes: T[] = [];
  for (const sample of samples) {
    const label = routeLabels.find((l) => sample.labels[l]);
    const made = label ? entry(sample.labels[label] as string, sample.value) : null;
    if (!label || made === null) continue;
    routeLabel ??= label;
    routes.push(made);
  }
  return { routeLabel, routes };
}

/** A ratio as people read error rates: `0.05%`, `2%`, `60%`. */
export function formatPercent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(3))}%`;
}
