import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultConfig } from '../../core/config.js';
import { parseDuration } from '../../core/duration.js';
import { promQueries, type PromQueries } from '../../prometheus/queries.js';
import type { PrometheusSection, RouteSection } from './schema.js';

/** What the incident conditions read from the simulated cluster. */
export interface WorkloadState {
  image: string | null;
  replicas: number;
}

export interface PrometheusSimulatorOptions {
  section: PrometheusSection;
  /** Scenario times (`since: -5m`) are relative to this. */
  start: Date;
  clock: () => Date;
  /** The app deployment as it is now; a fix that changes it can end an incident. */
  workload: () => WorkloadState;
  /** Calls `listener` after every change in the simulated cluster; returns how to stop. */
  onWorkloadChange(listener: () => void): () => void;
  /** The cluster's containers as cAdvisor would report their working sets. */
  memory?: () => ContainerMemorySeries[];
  /** A component's health as another simulator decides it (the AI app's), overriding the scenario's value. */
  health?: (component: string) => number | undefined;
}

/** One container's working set over time, as `container_memory_working_set_bytes` would show it. */
export interface ContainerMemorySeries {
  namespace: string;
  pod: string;
  container: string;
  /** Bytes at `time` (epoch ms), or undefined when no instance of the container ran then. */
  at(time: number): number | undefined;
}

const MEMORY_QUERY = /^sum by \(namespace, pod, container\) \(container_memory_working_set_bytes\{(.*)\}\)$/;
const MATCHER = /(\w+)(=~|!~|!=|=)"((?:[^"\\]|\\.)*)"/g;

/** The working-set query aegis-ir sends, with its label matchers applied to the cluster's containers. */
function memoryAnswer(promql: string, series: () => ContainerMemorySeries[], at: number): Samples | undefined {
  const selector = MEMORY_QUERY.exec(promql)?.[1];
  if (selector === undefined) return undefined;
  const matchers = [...selector.matchAll(MATCHER)].map(([, label = '', op, quoted = '']) => {
    const value = quoted.replace(/\\(.)/g, '$1');
    const pattern = new RegExp(`^(?:${value})$`);
    return (labels: Labels) => {
      const actual = labels[label] ?? '';
      return op === '=' ? actual === value : op === '!=' ? actual !== value : op === '=~' ? pattern.test(actual) : !pattern.test(actual);
    };
  });
  return series().flatMap((c) => {
    const labels = { namespace: c.namespace, pod: c.pod, container: c.container };
    const value = c.at(at);
    return value !== undefined && matchers.every((m) => m(labels)) ? [{ labels, value }] : [];
  });
}

export interface PrometheusSimulator {
  url: string;
  close(): Promise<void>;
}

/** Prometheus refuses a range query that would return more points than this per series. */
const MAX_POINTS_PER_SERIES = 11_000;

type Labels = Record<string, string>;
type Samples = Array<{ labels: Labels; value: number }>;

/**
 * The sandbox's Prometheus: an HTTP server on 127.0.0.1 answering `/api/v1/query`,
 * `/api/v1/query_range` and `/api/v1/status/buildinfo` for the queries aegis-ir sends (the
 * runbook's, built by the same code with default settings), computed from the scenario's
 * per-endpoint signals, and the containers' working sets from the simulated cluster. It evaluates no other PromQL: anything else is answered as Prometheus
 * answers a query it cannot parse (400 bad_data), naming what it serves.
 */
export async function startPrometheusSimulator(options: PrometheusSimulatorOptions): Promise<PrometheusSimulator> {
  const ended = new Map<string, number>();
  // Reacting to every change of the cluster, not waiting for a query, dates the end of an incident at the fix.
  const stopWatching = options.onWorkloadChange(() => {
    for (const route of options.section.routes) {
      const condition = route.incident?.while;
      if (condition && !ended.has(route.route) && !holds(condition, options.workload())) ended.set(route.route, options.clock().getTime());
    }
  });
  const answers = answersFor(promQueries(defaultConfig().prometheus), options.health);
  const activeAt = (route: RouteSection, at: number): RouteSection['baseline'] => {
    const incident = route.incident;
    if (!incident) return route.baseline;
    const since = options.start.getTime() - (parseDuration(incident.since.slice(1)) ?? 0);
    const end = ended.get(route.route) ?? Infinity;
    return at >= since && at < end ? incident : route.baseline;
  };
  const section = options.section;
  const memory = options.memory;
  const evaluate = (promql: string, at: number) =>
    answers.get(promql)?.(section, at, activeAt) ?? (memory ? memoryAnswer(promql, memory, at) : undefined);

  const server = createServer((request, response) => {
    // A client that hangs up before its body is read rejects readForm; nobody is left to answer.
    readForm(request).then((form) => respond(request, response, form, evaluate, options.clock), () => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      stopWatching();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function holds(condition: { image?: string; replicasAtMost?: number }, state: WorkloadState): boolean {
  if (condition.image !== undefined && state.image !== condition.image) return false;
  return !(condition.replicasAtMost !== undefined && state.replicas > condition.replicasAtMost);
}

type Active = (route: RouteSection, at: number) => RouteSection['baseline'];
type Answer = (section: PrometheusSection, at: number, active: Active) => Samples;

/** Each query aegis-ir sends, and how its value follows from the scenario. */
function answersFor(q: PromQueries, override: PrometheusSimulatorOptions['health']): Map<string, Answer> {
  const byRoute = (s: PrometheusSection, value: (r: RouteSection) => number) => s.routes.map((r) => ({ labels: { [s.routeLabel]: r.route }, value: value(r) }));
  const seconds = (text: string) => (parseDuration(text) ?? 0) / 1000;
  const health = (s: PrometheusSection, perInstance: boolean) =>
    Object.entries(s.health).flatMap(([component, scenarioValue]) => {
      const value = override?.(component) ?? scenarioValue;
      return (
      perInstance
        ? Array.from({ length: s.instances }, (_, i) => ({ labels: { component, instance: `aegis-api-${i}:8080` }, value }))
        : [{ labels: { component }, value }]
      );
    });
  const series = (s: PrometheusSection) => (s.routes.length ? [{ labels: {}, value: s.routes.length * 4 }] : []);
  return new Map<string, Answer>([
    [q.requestSeries, series],
    [q.durationSeries, series],
    [q.errorRatio, (s, at, active) => {
      const total = s.routes.reduce((n, r) => n + r.requestsPerSecond, 0);
      return [{ labels: {}, value: s.routes.reduce((n, r) => n + r.requestsPerSecond * active(r, at).errorRatio, 0) / total }];
    }],
    [q.requestsByRoute, (s) => byRoute(s, (r) => r.requestsPerSecond)],
    [q.errorsByRoute, (s, at, active) => byRoute(s, (r) => r.requestsPerSecond * active(r, at).errorRatio).filter((e) => e.value > 0)],
    [q.latencyP99, (s, at, active) => [{ labels: {}, value: mixtureP99(s.routes.map((r) => ({ rate: r.requestsPerSecond, p99: seconds(active(r, at).p99) }))) }]],
    [q.latencyP99ByRoute, (s, at, active) => byRoute(s, (r) => seconds(active(r, at).p99))],
    [q.health, (s) => health(s, true)],
    [q.healthByComponent, (s) => health(s, false)],
    [q.findingsActive, (s) => [{ labels: {}, value: s.findingsActive }]],
  ]);
}

/**
 * The p99 of all requests from each endpoint's p99: the slowest endpoints' tails (1% of each) are
 * taken first until they make up 1% of all traffic. An approximation, enough to tell one slow
 * endpoint's effect on the service from everything slow.
 */
function mixtureP99(routes: Array<{ rate: number; p99: number }>): number {
  const total = routes.reduce((n, r) => n + r.rate, 0);
  let tail = 0;
  for (const route of [...routes].sort((a, b) => b.p99 - a.p99)) {
    tail += route.rate / total;
    if (tail >= 0.01) return route.p99;
  }
  return routes[0]?.p99 ?? Number.NaN;
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  let body = '';
  for await (const chunk of request) body += String(chunk);
  const form = new URLSearchParams(url.search);
  for (const [key, value] of new URLSearchParams(body)) form.append(key, value);
  return form;
}

function respond(
  request: IncomingMessage,
  response: ServerResponse,
  form: URLSearchParams,
  evaluate: (promql: string, at: number) => Samples | undefined,
  clock: () => Date,
): void {
  const send = (status: number, body: unknown) => response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (path === '/api/v1/status/buildinfo') {
    send(200, { status: 'success', data: { version: '2.42.0', revision: 'aegis-ir-sandbox', branch: 'sandbox', goVersion: 'n/a' } });
    return;
  }
  if (path !== '/api/v1/query' && path !== '/api/v1/query_range') {
    send(404, { status: 'error', errorType: 'not_found', error: `${path} is not served by the sandbox's Prometheus` });
    return;
  }
  const promql = form.get('query') ?? '';
  const at = (key: string) => (form.has(key) ? Number(form.get(key)) * 1000 : clock().getTime());
  if (evaluate(promql, at('time')) === undefined) {
    send(400, { status: 'error', errorType: 'bad_data', error: `the sandbox's Prometheus answers only aegis-ir's queries, not ${promql}` });
    return;
  }
  const value = (v: number) => (Number.isNaN(v) ? 'NaN' : String(v));
  if (path === '/api/v1/query') {
    const t = at('time');
    const result = (evaluate(promql, t) ?? []).map((s) => ({ metric: s.labels, value: [t / 1000, value(s.value)] }));
    send(200, { status: 'success', data: { resultType: 'vector', result } });
    return;
  }
  const start = at('start');
  const end = at('end');
  const step = Math.max(1000, (parseDuration(form.get('step') ?? '') ?? Number(form.get('step')) * 1000) || 30_000);
  // Prometheus's own limit; without it a wide range at a fine step would be computed point by point in memory.
  if ((end - start) / step > MAX_POINTS_PER_SERIES) {
    send(400, { status: 'error', errorType: 'bad_data', error: 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)' });
    return;
  }
  const series = new Map<string, { metric: Labels; values: Array<[number, string]> }>();
  for (let t = start; t <= end; t += step) {
    for (const sample of evaluate(promql, t) ?? []) {
      const key = JSON.stringify(sample.labels);
      const entry = series.get(key) ?? { metric: sample.labels, values: [] };
      entry.values.push([t / 1000, value(sample.value)]);
      series.set(key, entry);
    }
  }
  send(200, { status: 'success', data: { resultType: 'matrix', result: [...series.values()] } });
}
