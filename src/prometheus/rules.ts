import type { Config } from '../core/config.js';
import type { FindingKind } from '../core/findings.js';
import { DATABASE_FINDINGS } from '../checks/database/findings.js';
import { MEMORY_FINDINGS } from '../checks/memory/findings.js';
import { PROMETHEUS_FINDINGS } from '../checks/prometheus/findings.js';
import { aggregate, compare, divide, predictLinear, subtract, type Expr } from './promql.js';
import { promDuration, promQueries, scopedSelector } from './queries.js';

/**
 * Metrics of the standard exporters the connection and memory rules read: postgres_exporter's
 * `pg_stat_activity` and `pg_settings`, cAdvisor's working set (what the OOM killer compares with the
 * limit) and kube-state-metrics' container limits.
 */
const EXPORTER_METRICS = {
  connections: 'pg_stat_activity_count',
  maxConnections: 'pg_settings_max_connections',
  reservedConnections: 'pg_settings_superuser_reserved_connections',
  workingSet: 'container_memory_working_set_bytes',
  limits: 'kube_pod_container_resource_limits',
} as const;

/** One Prometheus alerting rule, as a rules file and a `PrometheusRule` hold it. */
export interface AlertingRule {
  alert: string;
  expr: Expr;
  for?: string;
  /** `component`: the component a health rule watches, so the alert routes (and the post-mortem matches) by it. */
  labels: { severity: string; code: string; component?: string };
  annotations: { summary: string; description: string; runbook: string; diagnose: string };
}

/** The rule groups of a rules file (`groups:`), which is also a `PrometheusRule`'s `spec`. */
export interface RuleGroups {
  groups: Array<{ name: string; rules: AlertingRule[] }>;
}

/**
 * The runbook's "Key Metrics to Monitor" as alerting rules, at the configured thresholds and with every
 * selector scoped by `prometheus.matchers`: the error rate above the objective and the SEV2 and SEV1
 * levels, p99 above its objective, the AI provider's health at 0, connections above their share of
 * the usable limit, and memory projected to reach its limit. Each rule carries the code, SEV and
 * runbook section of the finding aegis-ir reports for the same condition, and the diagnosis to run.
 */
export function alertingRules(config: Config): RuleGroups {
  const settings = config.prometheus;
  const queries = promQueries(settings);
  const t = config.thresholds;
  const scoped = (metric: string, extra: Parameters<typeof scopedSelector>[2] = []) => scopedSelector(settings, metric, extra);
  const percent = (ratio: number) => `${+(ratio * 100).toFixed(3)}%`;
  const forClause = config.monitoring.for > 0 ? { for: promDuration(config.monitoring.for) } : {};

  const rule = (
    alert: string,
    finding: FindingKind<never>,
    expr: Expr,
    diagnose: string,
    summary: string,
    description: string,
    section = finding.anchor,
    component?: string,
  ): AlertingRule => ({
    alert,
    expr,
    ...forClause,
    labels: { severity: finding.severity ?? 'SEV4', code: finding.code, ...(component ? { component } : {}) },
    annotations: { summary, description, runbook: `aegis-ir runbook ${section}`, diagnose: `aegis-ir diagnose ${diagnose}` },
  });

  const errorRate = (alert: string, finding: FindingKind<never>, threshold: number, level: string) =>
    rule(
      alert,
      finding,
      compare(queries.errorRatio, '>', threshold),
      'api-errors',
      `Error rate {{ $value | humanizePercentage }} is above ${percent(threshold)} (${level})`,
      `Share of requests answered ${settings.errorStatus} over ${promDuration(settings.rateWindow)}; the objective is below ${percent(t.errorRate.sev3)}.`,
    );

  const usable = subtract(
    aggregate('max', scoped(EXPORTER_METRICS.maxConnections)),
    aggregate('max', scoped(EXPORTER_METRICS.reservedConnections)),
  );
  const containers = [{ label: 'container', op: '!=' as const, value: '' }, { label: 'container', op: '!=' as const, value: 'POD' }];
  const byContainer = ['namespace', 'pod', 'container'];
  const projected = aggregate(
    'max',
    predictLinear(scoped(EXPORTER_METRICS.workingSet, containers), promDuration(config.memory.trendWindow), Math.round(config.memory.leakHorizon / 1000)),
    byContainer,
  );
  const limit = aggregate('max', scoped(EXPORTER_METRICS.limits, [{ label: 'resource', op: '=', value: 'memory' }]), byContainer);

  return {
    groups: [
      {
        name: 'aegis-ir',
        rules: [
          errorRate('AegisErrorRateAboveObjective', PROMETHEUS_FINDINGS.errorRateAboveObjective, t.errorRate.sev3, 'SEV3'),
          errorRate('AegisErrorRateMajor', PROMETHEUS_FINDINGS.errorRateMajor, t.errorRate.sev2, 'SEV2'),
          errorRate('AegisErrorRateOutage', PROMETHEUS_FINDINGS.errorRateOutage, t.errorRate.sev1, 'SEV1'),
          rule(
            'AegisLatencyP99High',
            PROMETHEUS_FINDINGS.latencyHigh,
            compare(queries.latencyP99, '>', t.latencyP99 / 1000),
            'api-errors',
            `p99 latency {{ $value | humanizeDuration }} is above ${promDuration(t.latencyP99)}`,
            `p99 of all requests over ${promDuration(settings.rateWindow)}.`,
          ),
          rule(
            'AegisAIProviderUnhealthy',
            PROMETHEUS_FINDINGS.componentUnhealthy,
            compare(scoped(settings.metrics.health, [{ label: settings.componentLabel, op: '=', value: 'ai_provider' }]), '==', 0),
            'ai-provider',
            'The AI provider component reports unhealthy on {{ $labels.instance }}',
            `${settings.metrics.health}{${settings.componentLabel}="ai_provider"} is 0.`,
            'issue-ai-provider-timeouts',
            'ai_provider',
          ),
          rule(
            'AegisDatabaseConnectionsNearLimit',
            DATABASE_FINDINGS.connectionsNearLimit,
            compare(divide(aggregate('sum', scoped(EXPORTER_METRICS.connections)), usable), '>', t.connectionSaturation),
            'db-connections',
            `Database connections at {{ $value | humanizePercentage }} of the usable limit (above ${percent(t.connectionSaturation)})`,
            'Connections in pg_stat_activity against max_connections less the superuser-reserved slots.',
          ),
          rule(
            'AegisMemoryReachesLimit',
            MEMORY_FINDINGS.reachesLimit,
            compare(projected, '>=', limit, byContainer),
            'memory',
            '{{ $labels.pod }}/{{ $labels.container }} will reach its memory limit within ' + promDuration(config.memory.leakHorizon),
            `Working set fitted over ${promDuration(config.memory.trendWindow)} and projected ${promDuration(config.memory.leakHorizon)} ahead, against the container's limit.`,
          ),
        ],
      },
    ],
  };
}

/** The rules as a prometheus-operator `PrometheusRule` in the configured namespace. */
export function prometheusRule(config: Config): Record<string, unknown> {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'aegis-ir', namespace: config.namespace, labels: { 'app.kubernetes.io/managed-by': 'aegis-ir' } },
    spec: alertingRules(config),
  };
}
