import { STATUS_CODES } from 'node:http';
import type { AxiosError, AxiosInstance } from 'axios';
import * as z from 'zod';
import { abortReason } from '../core/cancellation.js';
import { formatDuration } from '../core/duration.js';
import { UnreachableError } from '../core/errors.js';
import { describeNetworkCode, isTlsCode, networkCode } from '../core/network.js';
import { messageLine } from '../core/neutralise.js';
import { displayUrl } from '../core/redact.js';
import type { Point, PrometheusPort, PrometheusTarget, Sample, Series } from './port.js';

/** `[<unix seconds>, "<value>"]`, as the HTTP API writes every sample. */
const samplePair = z.tuple([z.number(), z.string()]);
const labels = z.record(z.string(), z.string());

const data = z.discriminatedUnion('resultType', [
  z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: labels, value: samplePair })) }),
  z.object({ resultType: z.literal('matrix'), result: z.array(z.object({ metric: labels, values: z.array(samplePair) })) }),
  z.object({ resultType: z.literal('scalar'), result: samplePair }),
  z.object({ resultType: z.literal('string'), result: samplePair }),
]);

/** The envelope of every `/api/v1` answer, successful or not. */
export const apiResponseSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('success'), data, warnings: z.array(z.string()).optional() }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);
type QueryData = z.infer<typeof data>;

/**
 * Connects a {@link PrometheusPort}. axios is imported here, on first use, so commands that never
 * read metrics do not load it. Nothing is sent until the first query. Each request is bounded by
 * `requestTimeout` and stopped by the caller's signal (a check's deadline, Ctrl-C).
 */
export async function connectPrometheus(target: PrometheusTarget): Promise<PrometheusPort> {
  const { default: axios } = await import('axios');
  const shown = displayUrl(target.url);
  const http = axios.create({
    baseURL: `${target.url.replace(/\/+$/, '')}/api/v1/`,
    timeout: target.requestTimeoutMs,
    headers: target.token ? { Authorization: `Bearer ${target.token}` } : {},
    // Every status is read here, so that Prometheus's own error document reaches the operator.
    validateStatus: () => true,
  });
  const ask = (endpoint: string, promql: string, params: Record<string, string>, signal: AbortSignal) =>
    request(http, shown, target.requestTimeoutMs, endpoint, promql, params, signal);
  return {
    url: shown,
    async query(promql, at, signal) {
      return samplesOf(await ask('query', promql, { time: unixSeconds(at) }, signal), promql);
    },
    async queryRange(promql, range, signal) {
      const answer = await ask(
        'query_range',
        promql,
        { start: unixSeconds(range.start), end: unixSeconds(range.end), step: `${Math.max(1, Math.round(range.stepMs / 1000))}s` },
        signal,
      );
      if (answer.resultType !== 'matrix') throw unexpected(shown, promql, `a ${answer.resultType} for a range query`);
      return answer.result.map((s): Series => ({ labels: s.metric, points: s.values.map(pointOf) }));
    },
  };
}

async function request(
  http: AxiosInstance,
  shown: string,
  timeoutMs: number,
  endpoint: string,
  promql: string,
  params: Record<string, string>,
  signal: AbortSignal,
): Promise<QueryData> {
  if (signal.aborted) throw abortReason(signal, 'prometheus');
  // axios's own timeout only bounds an idle socket: a body dripping in byte by byte would outlive it.
  const deadline = AbortSignal.timeout(timeoutMs);
  let response;
  try {
    // POST, form-encoded, as Grafana does: long queries never hit a URL length limit.
    response = await http.post(endpoint, new URLSearchParams({ query: promql, ...params }).toString(), {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      responseType: 'json',
      signal: AbortSignal.any([signal, deadline]),
    });
  } catch (error) {
    if (signal.aborted) throw abortReason(signal, 'prometheus');
    if (deadline.aborted) throw new UnreachableError('prometheus', `Prometheus at ${shown} did not answer within ${formatDuration(timeoutMs)}`, SLOW_HINT);
    throw transportError(error as AxiosError, shown, timeoutMs);
  }
  const { status } = response;
  const type = String(response.headers['content-type'] ?? '');
  if (/^\s*(text\/html|application\/xhtml)/i.test(type) || (typeof response.data === 'string' && /^\s*<(!doctype|html|head|body)\b/i.test(response.data))) {
    throw new UnreachableError(
      'prometheus',
      `Prometheus at ${shown} answered ${status} with an HTML page, not the API's JSON (a login page, a proxy or the wrong URL)`,
      `open ${shown} in a browser, then point --prometheus-url at the Prometheus server itself, e.g. http://prometheus:9090`,
    );
  }
  if (status === 429) {
    const after = Number(response.headers['retry-after']);
    throw new UnreachableError(
      'prometheus',
      `Prometheus at ${shown} is limiting requests (429 Too Many Requests${Number.isFinite(after) && after > 0 ? `, retry after ${formatDuration(after * 1000)}` : ''})`,
      'wait and run the command again; a proxy in front of Prometheus may rate-limit it',
    );
  }
  if (status === 401 || status === 403) {
    throw new UnreachableError(
      'prometheus',
      `Prometheus at ${shown} refused access (${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'})`,
      'set AEGIS_IR_PROMETHEUS_TOKEN or prometheus.token in the config',
    );
  }
  const parsed = apiResponseSchema.safeParse(response.data);
  if (status === 404 && !parsed.success) {
    throw new UnreachableError(
      'prometheus',
      `no Prometheus API at ${shown} (404 for /api/v1/${endpoint})`,
      'point --prometheus-url at the server root, e.g. http://prometheus:9090',
    );
  }
  if (status >= 500) {
    const detail = parsed.success && parsed.data.status === 'error' ? `: ${messageLine(parsed.data.error)}` : '';
    throw new UnreachableError(
      'prometheus',
      `Prometheus at ${shown} answered ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}${detail}`,
      `Prometheus is failing; check its logs, then try: curl ${shown}/-/ready`,
    );
  }
  if (!parsed.success) throw unexpected(shown, promql, `HTTP ${status} with a body that is not the Prometheus API's`);
  if (parsed.data.status === 'error') {
    // 400 bad_data (PromQL that does not parse) and 422 execution errors: the query's fault, not the server's.
    throw new Error(`Prometheus rejected ${promql} (${parsed.data.errorType}): ${parsed.data.error}`);
  }
  return parsed.data.data;
}

function samplesOf(answer: QueryData, promql: string): Sample[] {
  switch (answer.resultType) {
    case 'vector':
      return answer.result.map((s) => ({ labels: s.metric, value: valueOf(s.value[1]) }));
    case 'scalar':
      return [{ labels: {}, value: valueOf(answer.result[1]) }];
    default:
      throw new Error(`Prometheus answered ${promql} with a ${answer.resultType}, expected an instant vector`);
  }
}

const SLOW_HINT = 'retry; if it stays slow, raise prometheus.requestTimeout or check the server with: curl <url>/-/ready';

function transportError(error: AxiosError, shown: string, timeoutMs: number): Error {
  if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') {
    return new UnreachableError('prometheus', `Prometheus at ${shown} did not answer within ${formatDuration(timeoutMs)}`, SLOW_HINT);
  }
  // The headers came, then the connection ended before the body did.
  if (error.response !== undefined || error.code === 'ERR_BAD_RESPONSE' || error.code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return new UnreachableError(
      'prometheus',
      `Prometheus at ${shown} closed the connection mid-response`,
      'a proxy or load balancer in front of Prometheus may be cutting responses; try: curl <url>/-/ready',
    );
  }
  const code = networkCode(error);
  return new UnreachableError(
    'prometheus',
    `cannot reach Prometheus at ${shown} (${code ? describeNetworkCode(code) : messageLine(error.message)})`,
    isTlsCode(code ?? '')
      ? "if Prometheus uses a private certificate authority, point NODE_EXTRA_CA_CERTS at its certificate"
      : 'check --prometheus-url (or PROMETHEUS_URL), then try: curl <url>/-/ready',
  );
}

/** A body that is not the API's: the URL answers, but it is not Prometheus (or a proxy answered for it). */
function unexpected(shown: string, promql: string, what: string): Error {
  return new UnreachableError(
    'prometheus',
    `Prometheus at ${shown} answered ${promql} with ${what}; is the URL a Prometheus server?`,
    'point --prometheus-url at the Prometheus server root, e.g. http://prometheus:9090, then try: curl <url>/api/v1/query?query=up',
  );
}

function pointOf([time, value]: [number, string]): Point {
  return { time: Math.round(time * 1000), value: valueOf(value) };
}

/** Sample values are strings so that NaN and the infinities survive JSON. */
function valueOf(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

function unixSeconds(date: Date): string {
  return (date.getTime() / 1000).toFixed(3);
}
