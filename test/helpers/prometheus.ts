import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { findBinary } from './binary.js';

/**
 * A real Prometheus for integration tests: a `prom-client` exporter with known traffic on
 * 127.0.0.1, and the `prometheus` binary (Debian's package in CI) scraping it every second from a
 * temporary config and TSDB. Tests skip, saying why, when the binary is absent.
 */

/** Histogram buckets of the exporter, in seconds; p99 falls between two of them and is interpolated. */
export const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** One endpoint's traffic per tick: requests, the share answered 500, and latencies as [seconds, share]. */
export interface RouteTraffic {
  route: string;
  requests: number;
  errorRatio: number;
  latencies: Array<[number, number]>;
}

/** What one metric family set (one name prefix) exports. */
export interface ExportSpec {
  /** Metric names start with `<prefix>_`; `aegis` gives the runbook's names. */
  prefix: string;
  traffic: RouteTraffic[];
  health?: Record<string, number>;
  findingsActive?: number;
  /** Containers' working sets in bytes, exported as cAdvisor names them (`container_memory_working_set_bytes`, no prefix). */
  workingSets?: Array<{ namespace: string; pod: string; container: string; bytes: number }>;
}

/** The path to a `prometheus` binary (PROMETHEUS_BIN, else PATH), or a reason why there is none. */
export function prometheusBinary(): { path: string } | { missing: string } {
  return findBinary('prometheus', 'PROMETHEUS_BIN', 'apt-get install -y prometheus');
}

/** Serves each spec's metrics at /metrics, advancing the counters every 100 ms. */
export async function startExporter(specs: ExportSpec[]): Promise<{ target: string; stop(): Promise<void> }> {
  const registry = new Registry();
  const ticks = specs.map((spec) => exporterFor(spec, registry));
  for (const tick of ticks) tick();
  const timer = setInterval(() => ticks.forEach((tick) => tick()), 100);
  const server = createHttpServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    void registry.metrics().then((text) => response.writeHead(200, { 'Content-Type': registry.contentType }).end(text));
  });
  const port = await listen(server);
  return {
    target: `127.0.0.1:${port}`,
    stop: async () => {
      clearInterval(timer);
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function exporterFor(spec: ExportSpec, registry: Registry): () => void {
  const requests = new Counter({
    name: `${spec.prefix}_http_requests_total`,
    help: 'HTTP requests by route and status',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${spec.prefix}_http_request_duration_seconds`,
    help: 'HTTP request duration',
    labelNames: ['route'],
    buckets: BUCKETS,
    registers: [registry],
  });
  const health = new Gauge({ name: `${spec.prefix}_health_status`, help: 'component health', labelNames: ['component'], registers: [registry] });
  for (const [component, value] of Object.entries(spec.health ?? {})) health.set({ component }, value);
  if (spec.findingsActive !== undefined) {
    new Gauge({ name: `${spec.prefix}_findings_active`, help: 'open findings', registers: [registry] }).set(spec.findingsActive);
  }
  if (spec.workingSets) {
    const workingSet = new Gauge({ name: 'container_memory_working_set_bytes', help: 'working set', labelNames: ['namespace', 'pod', 'container'], registers: [registry] });
    for (const { bytes, ...labels } of spec.workingSets) workingSet.set(labels, bytes);
  }
  // Counters move together within a tick, so every scrape sees the exact error ratio.
  return () => {
    for (const t of spec.traffic) {
      requests.inc({ route: t.route, status: '200' }, t.requests * (1 - t.errorRatio));
      if (t.errorRatio > 0) requests.inc({ route: t.route, status: '500' }, t.requests * t.errorRatio);
      for (const [seconds, share] of t.latencies) {
        for (let i = 0; i < Math.round(t.requests * share); i += 1) duration.observe({ route: t.route }, seconds);
      }
    }
  };
}

/** A running Prometheus; `stop` kills it and removes its data. */
export interface RunningPrometheus {
  url: string;
  stop(): Promise<void>;
}

/** Starts Prometheus on a free loopback port, scraping `targets` every second and evaluating `rules` (a rules file's text). */
export async function startPrometheus(binary: string, targets: string[], rules?: string): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  if (rules !== undefined) writeFileSync(join(dir, 'rules.yml'), rules);
  writeFileSync(
    config,
    [
      'global: { scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s }',
      ...(rules === undefined ? [] : [`rule_files: ["${join(dir, 'rules.yml')}"]`]),
      'scrape_configs:',
      '  - job_name: aegis',
      `    static_configs: [{ targets: [${targets.map((t) => `"${t}"`).join(', ')}] }]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    binary,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const stop = async () => {
    await kill(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(async () => (await fetch(`${url}/-/ready`)).ok, 20_000, () => `Prometheus did not become ready:\n${log}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

/** Waits until an instant query returns at least `series` series (scrapes have landed and rate() has two points). */
export async function waitForSeries(url: string, promql: string, series = 1, timeoutMs = 20_000): Promise<void> {
  await until(
    async () => {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as { data?: { result?: unknown[] } };
      return (body.data?.result?.length ?? 0) >= series;
    },
    timeoutMs,
    () => `no result for ${promql} within ${timeoutMs} ms`,
  );
}

/** Polls `ready` every 200 ms until it is true; throws `failure()` after `timeoutMs`. */
export async function until(ready: () => Promise<boolean>, timeoutMs: number, failure: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(failure());
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}
