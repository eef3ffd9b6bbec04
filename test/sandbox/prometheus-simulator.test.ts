import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/core/config.js';
import { connectPrometheus } from '../../src/prometheus/client.js';
import { promQueries } from '../../src/prometheus/queries.js';
import { DEPLOYMENT, HPA, POD, REPLICA_SET } from '../../src/sandbox/kube-simulator/resources.js';
import { prometheusSectionSchema } from '../../src/sandbox/prometheus-simulator/schema.js';
import { startPrometheusSimulator } from '../../src/sandbox/prometheus-simulator/server.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { runCaptured } from '../helpers/cli.js';

const signal = new AbortController().signal;

const q = promQueries(defaultConfig().prometheus);
let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function play(name: string) {
  sandbox = await startSandbox(name);
  const env = { HOME: sandbox.dir, ...sandbox.env };
  const url = sandbox.env.PROMETHEUS_URL ?? '';
  const store = sandbox.kube.store;
  return {
    url,
    prometheus: () => connectPrometheus({ url, requestTimeoutMs: 2000 }),
    run: (...argv: string[]) => runCaptured(argv, { env }),
    snapshot: () => [DEPLOYMENT, HPA, REPLICA_SET, POD].flatMap((t) => store.list(t, 'aegis').map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`)),
  };
}

describe("the sandbox's Prometheus", () => {
  it("answers the runbook's queries from the scenario, dated, and refuses other PromQL as Prometheus does", async () => {
    const drill = await play('high-error-rate');
    const prometheus = await drill.prometheus();
    const now = new Date();
    const [ratio] = await prometheus.query(q.errorRatio, now, signal);
    // 40 req/s at 62% and 10 req/s at 58%.
    expect(ratio?.value).toBeCloseTo((40 * 0.62 + 10 * 0.58) / 50, 6);
    const [trend] = await prometheus.queryRange(q.errorRatio, { start: new Date(now.getTime() - 10 * 60_000), end: now, stepMs: 60_000 }, signal);
    expect(trend?.points.map((p) => p.value > 0.5)).toEqual([false, false, false, false, false, true, true, true, true, true, true]);
    const byRoute = await prometheus.query(q.latencyP99ByRoute, now, signal);
    expect(byRoute.map((s) => [s.labels.route, s.value])).toEqual([['GET /api/v1/findings', 0.21], ['POST /api/v1/scans', 0.34]]);
    await expect(prometheus.query('up', now, signal)).rejects.toThrow(/Prometheus rejected up \(bad_data\): the sandbox's Prometheus answers only aegis-ir's queries/);
    const info = await fetch(`${drill.url}/api/v1/status/buildinfo`);
    expect(((await info.json()) as { status: string }).status).toBe('success');
  });

  it('plays high-error-rate to green: diagnose names the rollback, --dry-run changes nothing, --yes heals', async () => {
    const drill = await play('high-error-rate');
    const diagnosis = await drill.run('diagnose', 'api-errors', '-o', 'json');
    const decision = (JSON.parse(diagnosis.stdout) as { findings: Array<{ code: string; next: string[] }> }).findings.find((f) => f.code === 'AEG-3055');
    expect(decision?.next).toEqual(['aegis-ir fix rollback --dry-run']);
    const before = drill.snapshot();
    expect((await drill.run('fix', 'rollback', '--dry-run')).code).toBe(0);
    expect(drill.snapshot()).toEqual(before);
    expect((await drill.run('triage', '-o', 'json')).code).toBe(3);
    expect((await drill.run('fix', 'rollback', '--yes')).code).toBe(0);
    const after = await drill.run('triage', '-o', 'json');
    expect(JSON.parse(after.stdout)).toMatchObject({ severity: null, severityReason: expect.stringMatching(/^no problem found; \d+ of \d+ checks skipped: db-connections \(no database configured\)/) });
    expect(after.code).toBe(0);
  });

  it('ends the cpu-saturation incident in the metrics once fix scale adds a replica', async () => {
    const drill = await play('cpu-saturation');
    const metrics = async () => {
      const prometheus = await drill.prometheus();
      const now = new Date();
      return [(await prometheus.query(q.errorRatio, now, signal))[0]?.value, (await prometheus.query(q.latencyP99, now, signal))[0]?.value];
    };
    // The slowest endpoint's tail is more than 1% of all traffic, so it sets the service's p99.
    expect(await metrics()).toEqual([0.008, 1.5]);
    expect((await drill.run('fix', 'scale', '--by', '1', '--yes')).code).toBe(0);
    expect(await metrics()).toEqual([(120 * 0.0004 + 30 * 0.0005) / 150, 0.3]);
  });

  it('plays cpu-saturation to green: the same traffic spread over more pods leaves each below its CPU limit', async () => {
    const drill = await play('cpu-saturation');
    const before = JSON.parse((await drill.run('triage', '-o', 'json')).stdout) as { severity: string; findings: Array<{ code: string }> };
    expect(before.severity).toBe('SEV3');
    expect(before.findings.filter((f) => f.code === 'AEG-1011')).toHaveLength(3);
    expect((await drill.run('fix', 'scale', '--by', '3', '--yes')).code).toBe(0);
    const after = await drill.run('triage', '-o', 'json');
    expect(JSON.parse(after.stdout)).toMatchObject({ severity: null, severityReason: expect.stringMatching(/^no problem found; \d+ of \d+ checks skipped: db-connections \(no database configured\)/) });
    expect(after.code).toBe(0);
  });
});

describe("the sandbox's Prometheus, on its own", () => {
  const start = () => startPrometheusSimulator({
    section: prometheusSectionSchema.parse({ routes: [{ route: 'GET /', requestsPerSecond: 1,
      baseline: { errorRatio: 0, p99: '10ms' } }] }),
    start: new Date(), clock: () => new Date(),
    workload: () => ({ image: null, replicas: 1 }), onWorkloadChange: () => () => undefined,
  });

  it('refuses a range query of more than 11,000 points per series, as Prometheus does', async () => {
    const prometheus = await start();
    try {
      const range = (end: number) => fetch(`${prometheus.url}/api/v1/query_range?${new URLSearchParams({
        query: q.errorRatio, start: '0', end: String(end), step: '1s' })}`);
      const refused = await range(365 * 86_400);
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ status: 'error', errorType: 'bad_data',
        error: expect.stringContaining('exceeded maximum resolution of 11,000 points') });
      expect((await range(11_000)).status).toBe(200);
    } finally {
      await prometheus.close();
    }
  });

  it('survives a client that hangs up in the middle of its request body', async () => {
    const prometheus = await start();
    try {
      const socket = connect(Number(new URL(prometheus.url).port), '127.0.0.1');
      await once(socket, 'connect');
      socket.write('POST /api/v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n' +
        'Content-Type: application/x-www-form-urlencoded\r\n\r\nquery=');
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const answer = await fetch(`${prometheus.url}/api/v1/status/buildinfo`);
      expect(answer.status).toBe(200);
    } finally {
      await prometheus.close();
    }
  });
});
