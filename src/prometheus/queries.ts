import type { Config } from '../core/config.js';
import { aggregate, divide, histogramQuantile, orZero, rate, selector, type Expr, type Matcher } from './promql.js';

/** The PromQL aegis-ir sends: the runbook's "Key Metrics to Monitor", with names and windows from the config. */
export interface PromQueries {
  /** How many request series there are: none means a wrong URL, metric name or matcher, not "no errors". */
  requestSeries: Expr;
  /** How many request-duration histogram series there are. */
  durationSeries: Expr;
  /** Share of requests answered 5xx: the runbook's error-rate query (0 when there were no errors at all). */
  errorRatio: Expr;
  /** Requests per second, per endpoint label. */
  requestsByRoute: Expr;
  /** 5xx answers per second, per endpoint label. */
  errorsByRoute: Expr;
  /** p99 latency in seconds over all requests. */
  latencyP99: Expr;
  /** p99 latency in seconds, per endpoint label. */
  latencyP99ByRoute: Expr;
  /** `aegis_health_status`, one series per component and instance (1 healthy, 0 not). */
  health: Expr;
  /** The worst instance's health per component, for dating a failure. */
  healthByComponent: Expr;
  /** `aegis_findings_active` summed over instances. */
  findingsActive: Expr;
}

/**
 * Builds the queries from the `prometheus` config section, every selector scoped by
 * `prometheus.matchers`. The runbook's p99 query has no `sum by (le)`, which yields one quantile per
 * series; summing the buckets first gives the service's p99. `or vector(0)` turns "no 5xx series"
 * into a zero error rate, so it is only sound once `requestSeries` has found the requests.
 */
export function promQueries(settings: Config['prometheus']): PromQueries {
  const window = promDuration(settings.rateWindow);
  const { requests, duration, health, findingsActive } = settings.metrics;
  const scoped = (metric: string, extra: Matcher[] = []) => scopedSelector(settings, metric, extra);
  const all = rate(scoped(requests), window);
  const errors = rate(scoped(requests, [{ label: settings.statusLabel, op: '=~', value: settings.errorStatus }]), window);
  const buckets = rate(scoped(`${duration}_bucket`), window);
  const routes = settings.routeLabels;
  return {
    requestSeries: aggregate('count', scoped(requests)),
    durationSeries: aggregate('count', scoped(`${duration}_bucket`)),
    errorRatio: divide(orZero(aggregate('sum', errors)), aggregate('sum', all)),
    requestsByRoute: aggregate('sum', all, routes),
    errorsByRoute: aggregate('sum', errors, routes),
    latencyP99: histogramQuantile(0.99, aggregate('sum', buckets, ['le'])),
    latencyP99ByRoute: histogramQuantile(0.99, aggregate('sum', buckets, ['le', ...routes])),
    health: scoped(health),
    healthByComponent: aggregate('min', scoped(health), [settings.componentLabel]),
    findingsActive: aggregate('sum', scoped(findingsActive)),
  };
}

/** `metric{…}` scoped by `prometheus.matchers`, then by `extra`. */
export function scopedSelector(settings: Config['prometheus'], metric: string, extra: readonly Matcher[] = []): Expr {
  return selector(metric, [...settings.matchers, ...extra]);
}

/** Milliseconds as a PromQL duration in the largest whole unit: `5m`, `90s`, `1h`. */
export function promDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.max(1, Math.round(ms))}ms`;
}

/**
 * The working set of each container of the named pods (cAdvisor's `container_memory_working_set_bytes`,
 * what the OOM killer compares with the limit), scoped by `prometheus.matchers` like every query and
 * summed per container: each instance of a container is a series of its own, and the sum makes one
 * series per container in which a restart is a fall. The pause container and the pod-level cgroup
 * (`container="POD"`, `""`) are left out.
 */
export function memoryWorkingSetQuery(settings: Config['prometheus'], namespace: string, pods: readonly string[]): Expr {
  const names = pods.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return aggregate('sum', scopedSelector(settings, 'container_memory_working_set_bytes', [
    { label: 'namespace', op: '=', value: namespace },
    { label: 'pod', op: '=~', value: names },
    { label: 'container', op: '!=', value: '' },
    { label: 'container', op: '!=', value: 'POD' },
  ]), ['namespace', 'pod', 'container']);
}
