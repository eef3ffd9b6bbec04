import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentHealthCheck } from '../../src/checks/prometheus/component-health.js';
import { errorRateCheck, type ErrorRateEvidence } from '../../src/checks/prometheus/error-rate.js';
import { findingsTrendCheck } from '../../src/checks/prometheus/findings-trend.js';
import { latencyCheck, type LatencyEvidence } from '../../src/checks/prometheus/latency.js';
import { runChecks } from '../../src/checks/runner.js';
import type { Check } from '../../src/checks/check.js';
import { systemClock } from '../../src/core/context.js';
import { UnreachableError } from '../../src/core/errors.js';
import { connectPrometheus } from '../../src/prometheus/client.js';
import { memoryWorkingSetQuery } from '../../src/prometheus/queries.js';
import { runCaptured } from '../helpers/cli.js';
import { testConfig } from '../helpers/config.js';
import { testContext } from '../helpers/context.js';
import { prometheusBinary, startExporter, startPrometheus, waitForSeries, type ExportSpec } from '../helpers/prometheus.js';

const binary = prometheusBinary();
if ('missing' in binary) console.warn(`skipping the real-Prometheus tests: ${binary.missing}`);

const FAST: Array<[number, number]> = [[0.04, 1]];
const MiB = 1024 * 1024;
/** Two pods of the app (an app container and a sidecar), the pause container, the pod cgroup, and a pod of another namespace. */
const WORKING_SETS = [
  { namespace: 'aegis', pod: 'aegis-api-7d9f-a1', container: 'api', bytes: 300 * MiB },
  { namespace: 'aegis', pod: 'aegis-api-7d9f-a1', container: 'istio-proxy', bytes: 40 * MiB },
  { namespace: 'aegis', pod: 'aegis-api-7d9f-a1', container: 'POD', bytes: MiB },
  { namespace: 'aegis', pod: 'aegis-api-7d9f-a1', container: '', bytes: 341 * MiB },
  { namespace: 'aegis', pod: 'aegis-api-7d9f-b2', container: 'api', bytes: 200 * MiB },
  { namespace: 'staging', pod: 'aegis-api-7d9f-a1', container: 'api', bytes: 999 * MiB },
];
const SPECS: ExportSpec[] = [
  {
    prefix: 'aegis',
    traffic: [
      // 2.5% of this endpoint's requests take 0.9 s: p99 interpolates to 0.8 s in the (0.5, 1] bucket.
      { route: 'GET /api/findings', requests: 200, errorRatio: 0.02, latencies: [[0.04, 0.975], [0.9, 0.025]] },
      { route: 'POST /api/scans', requests: 200, errorRatio: 0.02, latencies: FAST },
    ],
    health: { database: 1, ai_provider: 0 },
    findingsActive: 7,
    workingSets: WORKING_SETS,
  },
  { prefix: 'calm', traffic: [{ route: 'GET /api/findings', requests: 100, errorRatio: 0.0005, latencies: FAST }] },
  { prefix: 'failing', traffic: [{ route: 'GET /api/findings', requests: 100, errorRatio: 0.6, latencies: FAST }] },
];

describe.skipIf('missing' in binary)('against a real Prometheus', () => {
  let url = '';
  const stops: Array<() => Promise<void>> = [];

  let cadvisorTarget = '';
  beforeAll(async () => {
    const exporter = await startExporter(SPECS);
    stops.push(exporter.stop);
    // A second cAdvisor-like target with the same pods' working sets (another cluster's scrape): only
    // matchers keep it out of the sum.
    const cadvisor = await startExporter([{ prefix: 'node', traffic: [], workingSets: WORKING_SETS.map((w) => ({ ...w, bytes: w.bytes * 10 })) }]);
    stops.push(cadvisor.stop);
    cadvisorTarget = cadvisor.target;
    const prometheus = await startPrometheus((binary as { path: string }).path, [exporter.target, cadvisor.target]);
    stops.push(prometheus.stop);
    url = prometheus.url;
    // rate() needs two scrapes of every family before the values settle.
    for (const prefix of ['aegis', 'calm', 'failing']) {
      await waitForSeries(url, `rate(${prefix}_http_request_duration_seconds_bucket{le="+Inf"}[5m])`);
    }
    await waitForSeries(url, 'container_memory_working_set_bytes', 2 * WORKING_SETS.length);
  });
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  function contextFor(settings: Record<string, unknown> = {}) {
    const config = testConfig({ 'prometheus.url': url, ...settings });
    const port = connectPrometheus({ url, requestTimeoutMs: 5000 });
    return testContext({ config, clock: systemClock, prometheus: () => port });
  }
  const metricsOf = (prefix: string) => ({
    'prometheus.metrics': {
      requests: `${prefix}_http_requests_total`,
      duration: `${prefix}_http_request_duration_seconds`,
      health: `${prefix}_health_status`,
      findingsActive: `${prefix}_findings_active`,
    },
  });
  const evaluate = (check: Check, evidence: unknown, ctx: ReturnType<typeof contextFor>) =>
    check.evaluate(evidence, { config: ctx.config, now: ctx.clock.now() }).map((f) => `${f.code} ${f.severity}`);

  it('measures the error ratio overall and per route', async () => {
    const ctx = contextFor();
    const evidence = (await errorRateCheck.collect(ctx)) as ErrorRateEvidence;
    expect(evidence.errorRatio).toBeCloseTo(0.02, 4);
    expect(evidence.routeLabel).toBe('route');
    expect(evidence.routes.map((r) => r.route).sort()).toEqual(['GET /api/findings', 'POST /api/scans']);
    for (const route of evidence.routes) expect(route.errorRatio).toBeCloseTo(0.02, 4);
    // Both routes take the same traffic; rate() over a 5m window that holds a few seconds of data
    // under-reports the absolute rate, so only the proportion is exact.
    const [first, second] = evidence.routes;
    expect(first?.requestsPerSecond).toBeGreaterThan(0);
    expect(first?.requestsPerSecond).toBeCloseTo(second?.requestsPerSecond ?? 0, 6);
    expect(evaluate(errorRateCheck, evidence, ctx)).toEqual(['AEG-3003 SEV3']);
  });

  it.each([
    ['calm', 0.0005, []],
    ['failing', 0.6, ['AEG-3002 SEV2']],
  ])('classifies %s traffic (%f errors)', async (prefix, ratio, expected) => {
    const ctx = contextFor(metricsOf(prefix));
    const evidence = (await errorRateCheck.collect(ctx)) as ErrorRateEvidence;
    expect(evidence.errorRatio).toBeCloseTo(ratio, 5);
    expect(evaluate(errorRateCheck, evidence, ctx)).toEqual(expected);
  });

  it('measures p99 overall and per route, and names the one slow route', async () => {
    const ctx = contextFor();
    const evidence = (await latencyCheck.collect(ctx)) as LatencyEvidence;
    expect(evidence.p99Seconds).toBeCloseTo(0.6, 2);
    const byRoute = Object.fromEntries(evidence.routes.map((r) => [r.route, r.p99Seconds]));
    expect(byRoute['GET /api/findings']).toBeCloseTo(0.8, 2);
    expect(byRoute['POST /api/scans']).toBeCloseTo(0.0495, 3);
    const findings = latencyCheck.evaluate(evidence, { config: ctx.config, now: ctx.clock.now() });
    expect(findings.map((f) => `${f.code} ${f.severity}`)).toEqual(['AEG-3011 SEV3']);
    expect(findings[0]?.summary).toContain('GET /api/findings');
  });

  it('reads component health and the findings trend', async () => {
    const ctx = contextFor();
    const health = await componentHealthCheck.collect(ctx);
    expect(evaluate(componentHealthCheck, health, ctx)).toEqual(['AEG-3020 SEV3']);
    expect(JSON.stringify(health)).toContain('"component":"ai_provider","instances":1,"unhealthy":1');
    const trend = (await findingsTrendCheck.collect(ctx)) as { trend: Array<{ value: number }> };
    expect(trend.trend.at(-1)?.value).toBe(7);
    expect(evaluate(findingsTrendCheck, trend, ctx)).toEqual([]);
  });

  it('scopes every query with prometheus.matchers', async () => {
    const scoped = contextFor({ 'prometheus.matchers': 'job="aegis", instance=~"127\\\\.0\\\\.0\\\\.1:.*"' });
    const evidence = (await errorRateCheck.collect(scoped)) as ErrorRateEvidence;
    expect(evidence.query).toContain('job="aegis", instance=~"127\\\\.0\\\\.0\\\\.1:.*"');
    expect(evidence.errorRatio).toBeCloseTo(0.02, 4);
    expect(((await latencyCheck.collect(scoped)) as LatencyEvidence).p99Seconds).toBeCloseTo(0.6, 2);
    expect(JSON.stringify(await componentHealthCheck.collect(scoped))).toContain('"component":"ai_provider"');
  });

  it('scopes the memory trend query with prometheus.matchers', async () => {
    const port = await connectPrometheus({ url, requestTimeoutMs: 5000 });
    const workingSets = async (matchers: string) => {
      const query = memoryWorkingSetQuery(testConfig({ 'prometheus.matchers': matchers }).prometheus, 'aegis', ['aegis-api-7d9f-a1', 'aegis-api-7d9f-b2']);
      const samples = await port.query(query, new Date(), AbortSignal.timeout(5000));
      return Object.fromEntries(samples.map((s) => [`${s.labels.pod}/${s.labels.container}`, s.value / MiB]));
    };
    // Unscoped, both targets' series are summed: 11 times each container's working set.
    expect(await workingSets('')).toEqual({ 'aegis-api-7d9f-a1/api': 3300, 'aegis-api-7d9f-a1/istio-proxy': 440, 'aegis-api-7d9f-b2/api': 2200 });
    expect(await workingSets(`job="aegis", instance="${cadvisorTarget}"`)).toEqual({ 'aegis-api-7d9f-a1/api': 3000, 'aegis-api-7d9f-a1/istio-proxy': 400, 'aegis-api-7d9f-b2/api': 2000 });
    expect(await workingSets(`instance!="${cadvisorTarget}"`)).toEqual({ 'aegis-api-7d9f-a1/api': 300, 'aegis-api-7d9f-a1/istio-proxy': 40, 'aegis-api-7d9f-b2/api': 200 });
  });

  it('errors, never "all checks ok", when the configured series do not exist', async () => {
    const ctx = contextFor({ 'prometheus.matchers': 'job="aegis-api"' });
    const outcomes = await runChecks(ctx, [errorRateCheck, latencyCheck, componentHealthCheck], { checkTimeoutMs: 10_000, timeoutMs: 20_000 });
    expect(outcomes.map((o) => [o.status, o.error])).toEqual([
      ['errored', 'no series for aegis_http_requests_total — wrong URL, wrong metric names or wrong matchers?'],
      ['errored', 'no series for aegis_http_request_duration_seconds_bucket — wrong URL, wrong metric names or wrong matchers?'],
      ['errored', 'no series for aegis_health_status — wrong URL, wrong metric names or wrong matchers?'],
    ]);
  });

  it('reports a query Prometheus rejects on its check, without stopping the others', async () => {
    const ctx = contextFor({ 'prometheus.errorStatus': '5..(' });
    const outcomes = await runChecks(ctx, [errorRateCheck, latencyCheck], { checkTimeoutMs: 10_000, timeoutMs: 20_000 });
    expect(outcomes.map((o) => o.status)).toEqual(['errored', 'findings']);
    expect(outcomes[0]?.error).toMatch(/Prometheus rejected .*\(bad_data\)/);
    expect(outcomes[0]?.unreachable).toBe(false);
  });

  it('triage classifies from Prometheus even when the cluster is unreachable', async () => {
    const run = await runCaptured(['triage', '-o', 'json', '--prometheus-url', url], {
      connectKube: () => Promise.reject(new UnreachableError('cluster', 'cannot reach the Kubernetes API (connection refused)')),
    });
    const document = JSON.parse(run.stdout) as { severity: string; findings: Array<{ code: string }>; checks: Array<{ id: string; status: string }> };
    expect(run.code).toBe(3);
    expect(document.severity).toBe('SEV3');
    expect(document.findings.map((f) => f.code).sort()).toEqual(['AEG-3003', 'AEG-3011', 'AEG-3020']);
    expect(document.checks.find((c) => c.id === 'pod-health')?.status).toBe('errored');
  });
});
