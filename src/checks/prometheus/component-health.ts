import { AI_COMPONENT } from '../ai-provider/status-page.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import { promQueries } from '../../prometheus/queries.js';
import { defineCheck, type EvaluationEnv } from '../check.js';
import { PROMETHEUS_FINDINGS as F } from './findings.js';
import { badSince, configuredPrometheus, noSeries, trendOf, trendRange, type TrendPoint } from './source.js';

/** One component's health as the app's instances report it. */
export interface ComponentHealth {
  component: string;
  /** Instances reporting the component. */
  instances: number;
  /** Instances reporting it below 1 (unhealthy). */
  unhealthy: number;
  /** The worst instance's value over the trend window. */
  trend: TrendPoint[];
}

/** Evidence of the component-health check. */
export interface ComponentHealthEvidence {
  metric: string;
  components: ComponentHealth[];
}

/**
 * Component health (`aegis_health_status{component=…}`): the app's own view of its dependencies —
 * the database, the AI provider, caches — one gauge per component and instance, 1 when healthy. A
 * component below 1 is the runbook's "DB connection" or "external dependency" branch of the high
 * error rate; on its own it is SEV3 (the AI provider's SEV2 needs its status page to agree).
 */
export const componentHealthCheck = defineCheck<ComponentHealthEvidence>({
  id: 'component-health',
  title: 'Component health (Prometheus)',
  target: 'prometheus',
  async collect(ctx) {
    const prometheus = await configuredPrometheus(ctx);
    const settings = ctx.config.prometheus;
    const q = promQueries(settings);
    const [samples, trends] = await Promise.all([
      prometheus.query(q.health, ctx.clock.now(), ctx.signal),
      prometheus.queryRange(q.healthByComponent, trendRange(ctx), ctx.signal),
    ]);
    if (!samples.length) throw noSeries(settings.metrics.health);
    const label = settings.componentLabel;
    // NaN is no health reading at all: unknown, never a healthy 1 nor a failing 0.
    const unread = samples.find((s) => Number.isNaN(s.value));
    if (unread) throw new Error(`${settings.metrics.health}{${label}="${unread.labels[label] ?? ''}"} is NaN: the app reports no health for it`);
    const byComponent = new Map<string, ComponentHealth>();
    for (const sample of samples) {
      const component = sample.labels[label] ?? '(none)';
      const entry = byComponent.get(component) ?? { component, instances: 0, unhealthy: 0, trend: [] };
      entry.instances += 1;
      if (sample.value < 1) entry.unhealthy += 1;
      byComponent.set(component, entry);
    }
    for (const series of trends) {
      const entry = byComponent.get(series.labels[label] ?? '(none)');
      if (entry) entry.trend = trendOf(series.points);
    }
    return {
      metric: settings.metrics.health,
      components: [...byComponent.values()].sort((a, b) => a.component.localeCompare(b.component)),
    };
  },
  evaluate: evaluateComponentHealth,
});

export function evaluateComponentHealth(evidence: ComponentHealthEvidence, _env: EvaluationEnv): Finding[] {
  return evidence.components
    .filter((c) => c.unhealthy > 0)
    .map((c) => {
      const since = badSince(c.trend, (value) => value < 1);
      return makeFinding(F.componentUnhealthy, {
        check: 'component-health',
        params: { component: c.component, metric: evidence.metric, down: c.unhealthy, instances: c.instances },
        evidence: { component: c.component, unhealthy: c.unhealthy, instances: c.instances, unhealthySince: since },
        // The AI provider has its own diagnosis (its status page, rate limits); other components are the API's.
        next: [c.component === AI_COMPONENT ? 'aegis-ir diagnose ai-provider' : 'aegis-ir diagnose api-errors'],
        since,
      });
    });
}
