import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnreachableError } from '../../src/core/errors.js';
import { connectPrometheus } from '../../src/prometheus/client.js';
import { startKubeSimulator } from '../../src/sandbox/kube-simulator/index.js';

const signal = new AbortController().signal;

/** Answers by path, like a Prometheus that misbehaves in one specific way per prefix. */
type Route = (request: IncomingMessage, body: string, response: ServerResponse) => void;

const json = (response: ServerResponse, status: number, body: unknown) =>
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));

const ROUTES: Record<string, Route> = {
  '/ok': (request, body, response) =>
    json(response, 200, {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [{ metric: { route: 'GET /', auth: request.headers.authorization ?? '', query: new URLSearchParams(body).get('query') ?? '' }, value: [1, '+Inf'] }],
      },
    }),
  '/range': (_request, _body, response) =>
    json(response, 200, { status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[1700000000, '0.5'], [1700000030, 'NaN']] }] } }),
  '/unavailable': (_request, _body, response) => json(response, 503, { status: 'error', errorType: 'unavailable', error: 'TSDB not ready' }),
  '/denied': (_request, _body, response) => response.writeHead(401).end('Unauthorized'),
  '/slow': () => undefined,
  '/grafana': (_request, _body, response) => response.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>Grafana</html>'),
  '/missing': (_request, _body, response) => response.writeHead(404).end('404 page not found'),
};

describe('Prometheus client', () => {
  let base = '';
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const route = Object.keys(ROUTES).find((prefix) => request.url?.startsWith(`${prefix}/api/v1/`));
      if (route) ROUTES[route]?.(request, body, response);
      else response.writeHead(500).end();
    });
  });
  beforeAll(
    () =>
      new Promise<void>((resolve) =>
        server.listen(0, '127.0.0.1', () => {
          base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
          resolve();
        }),
      ),
  );
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (path: string, token?: string) => connectPrometheus({ url: `${base}${path}/`, token, requestTimeoutMs: 300 });
  const failure = async (path: string) => {
    const error = await (await port(path)).query('up', new Date(), signal).then(() => undefined, (e: unknown) => e as Error);
    if (!error) throw new Error(`expected ${path} to fail`);
    return error;
  };

  it('posts the query with the bearer token and reads special values', async () => {
    const [sample] = await (await port('/ok', 's3cret')).query('sum(up)', new Date(), signal);
    expect(sample).toEqual({ labels: { route: 'GET /', auth: 'Bearer s3cret', query: 'sum(up)' }, value: Infinity });
  });

  it('reads a range query into points with millisecond times', async () => {
    const [series] = await (await port('/range')).queryRange('up', { start: new Date(0), end: new Date(1), stepMs: 30_000 }, signal);
    expect(series?.points).toEqual([{ time: 1_700_000_000_000, value: 0.5 }, { time: 1_700_000_030_000, value: NaN }]);
  });

  it.each([
    ['/unavailable', /answered 503 Service Unavailable: TSDB not ready$/],
    ['/denied', /refused access \(401 Unauthorized\)/],
    ['/slow', /did not answer within 300ms/],
    ['/missing', /no Prometheus API at .*404/],
  ])('%s makes Prometheus unreachable for the verdict (exit 4)', async (path, message) => {
    const error = await failure(path);
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toMatch(message);
  });

  it('says when the URL answers an HTML page instead of the API, in one line with what to try', async () => {
    const error = await failure('/grafana');
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toMatch(/^Prometheus at http:\/\/127\.0\.0\.1:\d+\/grafana\/ answered 200 with an HTML page, not the API's JSON \(a login page, a proxy or the wrong URL\)$/);
    expect((error as UnreachableError).hint).toMatch(/--prometheus-url/);
  });

  it('says when the server is reached but its TLS certificate is not trusted', async () => {
    // The cluster simulator serves HTTPS with a certificate from the sandbox's own CA, which Node does not trust.
    const tls = await startKubeSimulator({ scenario: 'healthy', tls: true });
    try {
      const untrusted = await connectPrometheus({ url: tls.url, requestTimeoutMs: 1000 });
      const error = await untrusted.query('up', new Date(), signal).then(() => undefined, (e: unknown) => e as Error);
      expect(error).toBeInstanceOf(UnreachableError);
      expect(error?.message).toBe(`cannot reach Prometheus at ${tls.url} (TLS certificate not trusted)`);
    } finally {
      await tls.close();
    }
  });

  it('reports a refused connection', async () => {
    const closed = await connectPrometheus({ url: 'http://127.0.0.1:1', requestTimeoutMs: 1000 });
    await expect(closed.query('up', new Date(), signal)).rejects.toThrow(/cannot reach Prometheus at http:\/\/127\.0\.0\.1:1 \(connection refused\)/);
  });
});
