import { formatDuration } from '../../core/duration.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import { formatBytes, parseQuantity } from '../../kube/quantity.js';
import { memoryWorkingSetQuery } from '../../prometheus/queries.js';
import { SkipCheck, defineCheck, type EvaluationEnv } from '../check.js';
import { configuredPrometheus, trendOf, type TrendPoint } from '../prometheus/source.js';
import { MEMORY_FINDINGS as F } from './findings.js';
import { appContainerName, workloadSnapshot } from '../kubernetes/snapshot.js';
import { livePods, type ContainerRole } from './memory-usage.js';
import { fitGrowth, growthSpread, isGrowing, reachesLimitAt, splitAtRestarts, type GrowthFit } from './trend-fit.js';

/** One container's working set over the trend window, with what the fit needs to know about it. */
export interface ContainerTrend {
  pod: string;
  container: string;
  role: ContainerRole;
  limit: number | null;
  /** When the container last restarted (its previous instance's end), ISO 8601. */
  restarts: string[];
  points: TrendPoint[];
}

/** Evidence of the memory-trend check. */
export interface MemoryTrendEvidence {
  query: string;
  windowMs: number;
  series: ContainerTrend[];
}

/**
 * Memory trend (runbook: "increasing memory trend"): `container_memory_working_set_bytes` of every
 * container of the app's pods over `memory.trendWindow`, fitted by least squares on its latest
 * instance (restarts split the series). A container projected to reach its limit within
 * `memory.leakHorizon` is SEV3, naming when; growth on every pod points at the code (a leak), on
 * one pod at that pod.
 */
export const memoryTrendCheck = defineCheck<MemoryTrendEvidence>({
  id: 'memory-trend',
  title: 'Memory trend (Prometheus)',
  target: 'prometheus',
  async collect(ctx) {
    const prometheus = await configuredPrometheus(ctx);
    const kube = await ctx.kube();
    const pods = livePods((await workloadSnapshot(ctx)).pods);
    if (!pods.length) throw new SkipCheck(`no pods match ${ctx.config.app.selector} in namespace ${kube.namespace}`);
    const query = memoryWorkingSetQuery(ctx.config.prometheus, kube.namespace, pods.map((p) => p.metadata?.name ?? ''));
    const end = ctx.clock.now();
    const windowMs = ctx.config.memory.trendWindow;
    const series = await prometheus.queryRange(query, { start: new Date(end.getTime() - windowMs), end, stepMs: ctx.config.prometheus.trendStep }, ctx.signal);
    if (!series.length) {
      // Prometheus answered, but not with what was asked: the verdict cannot rest on it.
      throw new Error(`Prometheus at ${prometheus.url} has no container_memory_working_set_bytes series for the ${pods.length} pod(s) of ${ctx.config.app.selector} (is cAdvisor scraped?)`);
    }
    const trends: ContainerTrend[] = [];
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      const app = appContainerName(pod, ctx.config.app);
      for (const container of pod.spec?.containers ?? []) {
        const found = series.find((s) => s.labels.pod === name && s.labels.container === container.name);
        if (!found) continue;
        const last = pod.status?.containerStatuses?.find((s) => s.name === container.name)?.lastState?.terminated?.finishedAt;
        trends.push({
          pod: name,
          container: container.name,
          role: container.name === app ? 'app' : 'sidecar',
          limit: parseQuantity(container.resources?.limits?.memory) ?? null,
          restarts: last ? [new Date(last).toISOString()] : [],
          points: trendOf(found.points),
        });
      }
    }
    return { query, windowMs, series: trends.sort((a, b) => a.pod.localeCompare(b.pod) || a.container.localeCompare(b.container)) };
  },
  evaluate: evaluateMemoryTrend,
});

/** A container's fit on its latest instance, or null when that instance is too short to call a trend. */
export function latestFit(trend: ContainerTrend): GrowthFit | null {
  const segments = splitAtRestarts(
    trend.points.map((p) => ({ time: Date.parse(p.at), value: p.value })),
    trend.restarts.map((r) => Date.parse(r)),
  );
  return fitGrowth(segments.at(-1) ?? []);
}

/** Pure evaluation of {@link MemoryTrendEvidence}; see the check's description. */
export function evaluateMemoryTrend(evidence: MemoryTrendEvidence, env: EvaluationEnv): Finding[] {
  const check = 'memory-trend';
  const horizon = env.config.memory.leakHorizon;
  const findings: Finding[] = [];
  const app: Array<{ trend: ContainerTrend; fit: GrowthFit }> = [];
  for (const trend of evidence.series) {
    const fit = latestFit(trend);
    if (!fit) continue;
    if (trend.role === 'app') app.push({ trend, fit });
    if (trend.limit === null || !isGrowing(fit, trend.limit)) continue;
    const at = reachesLimitAt(fit, trend.limit);
    if (at === null || at - env.now.getTime() > horizon) continue;
    const within = Math.max(0, at - env.now.getTime());
    findings.push(
      makeFinding(F.reachesLimit, {
        check,
        params: {
          pod: trend.pod,
          container: trend.container,
          rate: formatBytes(Math.round(fit.perHour)),
          limit: formatBytes(trend.limit),
          within: within < 60_000 ? 'under a minute' : formatDuration(Math.round(within / 60_000) * 60_000),
          // To the minute: the fit is no more precise than that.
          at: `${new Date(Math.round(at / 60_000) * 60_000).toISOString().slice(0, 16)}Z`,
        },
        resource: `pod/${trend.pod}`,
        evidence: { container: trend.container, perHour: Math.round(fit.perHour), current: Math.round(fit.fittedLast), limit: trend.limit, reachesAt: new Date(at).toISOString(), points: fit.points },
        next: ['aegis-ir fix restart --dry-run', 'aegis-ir fix memory-limit --factor 1.5 --dry-run'],
        since: new Date(fit.firstAt).toISOString(),
      }),
    );
  }
  const growing = app.filter(({ trend, fit }) => isGrowing(fit, trend.limit));
  const spread = growthSpread(growing.length, app.length);
  if (spread !== 'none') {
    const rates = growing.map((g) => g.fit.perHour).sort((a, b) => a - b);
    const median = rates[Math.floor(rates.length / 2)] ?? 0;
    findings.push(
      makeFinding(F.growth, {
        check,
        params: {
          spread:
            spread === 'all-pods'
              ? 'every pod grows alike, a leak in the code'
              : spread === 'one-pod'
                ? `only ${growing[0]?.trend.pod} grows, something in that pod (a hot shard, a stuck job)`
                : 'some pods grow, the work they were given',
          growing: growing.length,
          measured: app.length,
          rate: formatBytes(Math.round(median)),
        },
        evidence: { spread, pods: growing.map((g) => ({ pod: g.trend.pod, perHour: Math.round(g.fit.perHour) })) },
      }),
    );
  }
  return findings;
}
