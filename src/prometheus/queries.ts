import type { Config } from '../core/config.js';

/** The PromQL aegis-ir sends: the runbook's "Key Metrics to Monitor", with names and windows from the config. */
export interface PromQueries {
  /** Share of requests answered 5xx: the runbook's error-rate query (0 when there were no errors at all). */
  errorRatio: string;
  /** Requests per second, per endpoint label. */
  requestsByRoute: string;
  /** 5xx answers per second, per endpoint label. */
  errorsByRoute: string;
  /** p99 latency in seconds over all requests. */
  latencyP99: string;
  /** p99 latency in seconds, per endpoint label. */
  latencyP99ByRoute: string;
  /** `aegis_health_status`, one series per component and instance (1 healthy, 0 not). */
  health: string;
  /** The worst instance's health per component, for dating a failure. */
  healthByComponent: string;
  /** `aegis_findings_active` summed over instances. */
  findingsActive: string;
}

/**
 * Builds the queries from the `prometheus` config section. The runbook's p99 query has no `sum by
 * (le)`, which yields one quantile per series; summing the buckets first gives the service's p99.
 */
export function promQueries(settings: Config['prometheus']): PromQueries {
  const window = promDuration(settings.rateWindow);
  const { requests, duration, health, findingsActive } = settings.metrics;
  const errors = `${requests}{${settings.statusLabel}=~"${settings.errorStatus}"}`;
  const routes = settings.routeLabels.join(', ');
  return {
    errorRatio: `(sum(rate(${errors}[${window}])) or vector(0)) / sum(rate(${requests}[${window}]))`,
    requestsByRoute: `sum by (${routes}) (rate(${requests}[${window}]))`,
    errorsByRoute: `sum by (${routes}) (rate(${errors}[${window}]))`,
    latencyP99: `histogram_quantile(0.99, sum by (le) (rate(${duration}_bucket[${window}])))`,
    latencyP99ByRoute: `histogram_quantile(0.99, sum by (le, ${routes}) (rate(${duration}_bucket[${window}])))`,
    health,
    healthByComponent: `min by (${settings.componentLabel}) (${health})`,
    findingsActive: `sum(${findingsActive})`,
  };
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
 * what the OOM killer compares with the limit), summed per container: each instance of a container
 * is a series of its own, and the sum makes one series per container in which a restart is a fall.
 * The pause container and the pod-level cgroup (`container="POD"`, `""`) are left out.
 */
export function memoryWorkingSetQuery(namespace: string, pods: readonly string[]): string {
  const names = pods.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\/g, '\\\\')).join('|');
  return `sum by (namespace, pod, container) (container_memory_working_set_bytes{namespace="${namespace}", pod=~"${names}", container!="", container!="POD"})`;
}
