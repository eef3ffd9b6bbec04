import type { Config } from '../core/config.js';
import type { Finding } from '../core/findings.js';
import type { Severity } from '../core/severity.js';
import { DATABASE_FINDINGS } from './database/findings.js';
import { KUBERNETES_FINDINGS } from './kubernetes/findings.js';
import type { HealthEvidence } from './kubernetes/health-exec.js';
import type { ErrorRateEvidence } from './prometheus/error-rate.js';
import { PROMETHEUS_FINDINGS } from './prometheus/findings.js';
import { formatPercent } from './prometheus/source.js';
import type { CheckOutcome } from './runner.js';

/** One item of the impact assessment: its value and the evidence it came from, or null and why it is unknown. */
export interface ImpactItem<T> {
  value: T | null;
  /** The findings or measurements behind the value (`AEG-3001 error rate 62% …`). */
  evidence: string[];
  /** Why the value is unknown; null when it is known. */
  why: string | null;
}

/** An endpoint that fails or is slow, and how. */
export interface AffectedEndpoint {
  route: string;
  errorRatio: number | null;
  p99Seconds: number | null;
}

/**
 * Step 2 of the Triage Procedure (impact assessment), read off the evidence: when it started, which
 * features are affected, how many requests fail and what share of traffic, whether data may be at
 * risk. Each item says where it came from, or that it is unknown and why — never a guess.
 */
export interface Impact {
  startedAt: ImpactItem<string>;
  endpoints: ImpactItem<AffectedEndpoint[]>;
  components: ImpactItem<string[]>;
  failedRequestsPerMinute: ImpactItem<number>;
  shareOfTraffic: ImpactItem<number>;
  dataAtRisk: ImpactItem<boolean>;
}

const K = KUBERNETES_FINDINGS;
const P = PROMETHEUS_FINDINGS;
const D = DATABASE_FINDINGS;

/** A component the app's health command reports as not ok (`database: unreachable (…)`). */
const HEALTH_LINE = /^\s*([a-z][\w-]*):\s*(unreachable|unhealthy|down|error|failing|degraded|timeout)\b/gim;

/** Assesses the impact from the checks' outcomes and the findings of one triage or diagnose run. */
export function assessImpact(outcomes: CheckOutcome[], findings: Finding[], severity: Severity | null, config: Config): Impact {
  const outcome = (id: string) => outcomes.find((o) => o.id === id);
  const cite = (f: Finding) => `${f.code} ${f.summary}`;
  const errorRate = outcome('error-rate');
  const rate = errorRate?.status === 'ok' || errorRate?.status === 'findings' ? (errorRate.evidence as ErrorRateEvidence) : null;
  const trafficUnknown = errorRate
    ? errorRate.status === 'skipped'
      ? `error-rate skipped: ${errorRate.reason}`
      : `error-rate errored: ${errorRate.error}`
    : 'the error rate is not part of this run (run aegis-ir triage with Prometheus configured)';

  return {
    startedAt: startedAt(findings, severity),
    endpoints: endpoints(findings, rate, config, trafficUnknown),
    components: components(outcomes, findings),
    failedRequestsPerMinute: (() => {
      if (!rate) return unknown(trafficUnknown);
      if (!rate.routeLabel || !rate.routes.length) {
        return unknown(`the request metric ${config.prometheus.metrics.requests} carries no route label (${config.prometheus.routeLabels.join(', ')}), so only the error ratio is known`);
      }
      const perSecond = rate.routes.reduce((n, r) => n + r.errorsPerSecond, 0);
      const total = rate.routes.reduce((n, r) => n + r.requestsPerSecond, 0);
      return known(round(perSecond * 60), [`${round(perSecond * 60)} of ${round(total * 60)} requests per minute answered 5xx: ${rate.query}`]);
    })(),
    shareOfTraffic: rate ? known(rate.errorRatio, [`${formatPercent(rate.errorRatio)} of requests answered 5xx: ${rate.query}`]) : unknown(trafficUnknown),
    dataAtRisk: dataAtRisk(outcomes, findings, cite),
  };
}

function startedAt(findings: Finding[], severity: Severity | null): ImpactItem<string> {
  if (!severity) return unknown('no symptom was found');
  // The earliest symptom among the findings that decided the SEV; else among any with a severity.
  const dated = (list: Finding[]) => list.filter((f) => f.since).sort((a, b) => Date.parse(a.since ?? '') - Date.parse(b.since ?? ''));
  const [first] = dated(findings.filter((f) => f.severity === severity)).concat(dated(findings.filter((f) => f.severity)));
  return first?.since ? known(first.since, [`${first.code} ${first.summary}`]) : unknown('no finding says when its symptom began');
}

function endpoints(findings: Finding[], rate: ErrorRateEvidence | null, config: Config, trafficUnknown: string): ImpactItem<AffectedEndpoint[]> {
  const byRoute = new Map<string, AffectedEndpoint>();
  const evidence: string[] = [];
  const objective = config.thresholds.errorRate.sev3;
  for (const r of rate?.routes ?? []) {
    if (r.errorRatio <= objective) continue;
    byRoute.set(r.route, { route: r.route, errorRatio: r.errorRatio, p99Seconds: null });
    evidence.push(`${r.route}: ${formatPercent(r.errorRatio)} of its requests answer 5xx`);
  }
  for (const f of findings.filter((x) => x.code === P.endpointSlow.code || x.code === P.latencyHigh.code)) {
    const slow =
      f.code === P.endpointSlow.code
        ? [{ route: String(f.evidence.route), p99Seconds: Number(f.evidence.p99Seconds) }]
        : ((f.evidence.routes as Array<{ route: string; p99Seconds: number }> | undefined) ?? []).filter((r) => r.p99Seconds > config.thresholds.latencyP99 / 1000);
    for (const s of slow) byRoute.set(s.route, { route: s.route, errorRatio: byRoute.get(s.route)?.errorRatio ?? null, p99Seconds: s.p99Seconds });
    evidence.push(`${f.code} ${f.summary}`);
  }
  if (!rate && !evidence.length) return unknown(trafficUnknown);
  if (rate && !rate.routeLabel && !evidence.length) {
    return unknown(`the request metric carries no route label (${config.prometheus.routeLabels.join(', ')}), so endpoints cannot be told apart`);
  }
  return known([...byRoute.values()], evidence.length ? evidence : ['every endpoint is within the error-rate and latency objectives']);
}

function components(outcomes: CheckOutcome[], findings: Finding[]): ImpactItem<string[]> {
  const found = new Map<string, string>();
  for (const f of findings) {
    if (f.code === P.componentUnhealthy.code) found.set(String(f.evidence.component), `${f.code} ${f.summary}`);
    if (f.code === K.noReadyPods.code || f.code === K.workloadMissing.code) found.set('api', `${f.code} ${f.summary}`);
    if (f.code === D.connectionsRefused.code) found.set('database', `${f.code} ${f.summary}`);
  }
  const health = outcomes.find((o) => o.id === 'health-exec');
  for (const run of health?.status === 'findings' ? (health.evidence as HealthEvidence).runs : []) {
    for (const [, name] of `${run.stdout}\n${run.stderr}`.matchAll(HEALTH_LINE)) {
      // `status: unhealthy` is the command's overall verdict, not a component.
      if (name && name !== 'status' && !found.has(name)) found.set(name, `health-exec in pod/${run.pod}: ${name} is not ok`);
    }
  }
  const assessed = outcomes.filter((o) => ['component-health', 'health-exec', 'pod-health'].includes(o.id) && (o.status === 'ok' || o.status === 'findings'));
  if (!found.size && !assessed.length) return unknown('neither the health command, the pods nor aegis_health_status could be read');
  return known([...found.keys()], found.size ? [...found.values()] : assessed.map((o) => `${o.id}: ok`));
}

function dataAtRisk(outcomes: CheckOutcome[], findings: Finding[], cite: (f: Finding) => string): ImpactItem<boolean> {
  const risks = findings.filter((f) => f.code === D.connectionsRefused.code || f.code === K.oomKilled.code).map(cite);
  const health = outcomes.find((o) => o.id === 'health-exec');
  const databaseDown = (health?.status === 'findings' ? (health.evidence as HealthEvidence).runs : []).find((r) => /^\s*database:\s*(unreachable|down|error)/im.test(r.stdout));
  if (databaseDown) risks.push(`health-exec in pod/${databaseDown.pod}: the database is unreachable, so writes fail`);
  if (risks.length) return known(true, risks);
  const db = outcomes.find((o) => o.id === 'db-connections');
  const pods = outcomes.find((o) => o.id === 'pod-health');
  if (db && (db.status === 'ok' || db.status === 'findings') && pods && (pods.status === 'ok' || pods.status === 'findings')) {
    return known(false, ['the database accepts connections', 'no pod was OOM-killed in the restart window']);
  }
  return unknown(
    db?.status === 'skipped'
      ? `no database configured, so refused writes cannot be ruled out (${db.reason})`
      : 'the database and the pods could not both be assessed',
  );
}

function known<T>(value: T, evidence: string[]): ImpactItem<T> {
  return { value, evidence, why: null };
}

function unknown<T>(why: string): ImpactItem<T> {
  return { value: null, evidence: [], why };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** One line of the impact for a record or a Slack post: what is known, and what is not. */
export function impactSummary(impact: Impact): string {
  const parts: string[] = [];
  if (impact.components.value?.length) parts.push(`unhealthy: ${impact.components.value.join(', ')}`);
  if (impact.endpoints.value?.length) parts.push(`endpoints: ${impact.endpoints.value.map((e) => e.route).join(', ')}`);
  if (impact.failedRequestsPerMinute.value !== null) parts.push(`${impact.failedRequestsPerMinute.value} failed requests/min`);
  if (impact.shareOfTraffic.value !== null) parts.push(`${formatPercent(impact.shareOfTraffic.value)} of traffic failing`);
  if (impact.dataAtRisk.value !== null) parts.push(impact.dataAtRisk.value ? 'data may be at risk' : 'no data at risk');
  return parts.length ? parts.join('; ') : 'unknown';
}
