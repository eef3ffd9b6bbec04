import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CancelledError, UnreachableError, exitCodeFor } from '../../src/core/errors.js';
import { createHttpPort } from '../../src/http/client.js';
import { HttpError } from '../../src/http/errors.js';
import type { HttpRequest } from '../../src/http/port.js';

/** One misbehaviour per path, as outbound services and the things in front of them misbehave. */
type Route = (request: IncomingMessage, body: string, response: ServerResponse) => void;

const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));

const ROUTES: Record<string, Route> = {
  '/echo': (request, body, response) =>
    json(response, 200, { method: request.method, auth: request.headers.authorization ?? null, type: request.headers['content-type'] ?? null, url: request.url, body: body ? JSON.parse(body) : null }),
  '/problem': (_q, _b, response) => json(response, 200, { ok: true }, { 'Content-Type': 'application/problem+json' }),
  '/empty': (_q, _b, response) => response.writeHead(204).end(),
  '/text-ok': (_q, _b, response) => response.writeHead(200, { 'Content-Type': 'text/html' }).end('ok'),
  '/html': (_q, _b, response) => response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><html><body>Sign in</body></html>'),
  '/html-as-json': (_q, _b, response) => response.writeHead(200, { 'Content-Type': 'application/json' }).end('<html><body>Just a moment...</body></html>'),
  '/to-html': (_q, _b, response) => response.writeHead(302, { Location: '/html' }).end(),
  '/loop': (_q, _b, response) => response.writeHead(302, { Location: '/loop' }).end(),
  '/to-echo': (_q, _b, response) => response.writeHead(301, { Location: '/echo' }).end(),
  '/plain': (_q, _b, response) => response.writeHead(200, { 'Content-Type': 'text/plain' }).end('{"looks":"like json"}'),
  '/untyped': (_q, _b, response) => {
    response.removeHeader('Content-Type');
    response.writeHead(200).end('{"a":1}');
  },
  '/garbage': (_q, _b, response) => response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"page":{"id":'),
  '/wrong-shape': (_q, _b, response) => json(response, 200, { page: { id: 42 } }),
  '/rate-limited': (_q, _b, response) =>
    json(response, 429, { type: 'error', error: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit' } }, { 'Retry-After': '30' }),
  '/slack-denied': (_q, _b, response) => json(response, 403, { ok: false, error: 'invalid_auth' }),
  '/pagerduty-invalid': (_q, _b, response) => json(response, 400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Length of \'routing_key\' is incorrect'] }),
  '/bad-gateway': (_q, _b, response) => response.writeHead(502, { 'Content-Type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>'),
  '/unavailable': (_q, _b, response) =>
    response.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': 'Thu, 26 Nov 2026 12:02:00 GMT' }).end('upstream connect error\x1b[31m\nor disconnect'),
  '/hang': () => undefined,
  '/drip': (_q, _b, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    const timer = setInterval(() => response.write(' '), 20);
    response.on('close', () => clearInterval(timer));
  },
  '/truncated': (_q, _b, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '400' });
    response.write('{"page":');
    setImmediate(() => response.socket?.destroy());
  },
  '/reset': (request) => request.socket.destroy(),
  '/huge': (_q, _b, response) => json(response, 200, { blob: 'x'.repeat(4096) }),
};

function route(request: IncomingMessage, response: ServerResponse) {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    const handler = ROUTES[new URL(request.url ?? '/', 'http://x').pathname];
    if (handler) handler(request, body, response);
    else response.writeHead(500).end();
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

const anything = z.unknown();
const echo = z.object({ method: z.string(), auth: z.string().nullable(), type: z.string().nullable(), url: z.string(), body: z.unknown() });
const clock = { now: () => new Date('2026-11-26T12:00:00Z') };

describe('HTTP port', () => {
  const server = createServer(route);
  const tlsDir = join(process.cwd(), 'src', 'sandbox', 'kube-simulator', 'tls');
  const tlsServer = createTlsServer({ cert: readFileSync(join(tlsDir, 'server.crt')), key: readFileSync(join(tlsDir, 'server.key')) }, route);
  let base = '';
  let tlsBase = '';
  let closedBase = '';
  beforeAll(async () => {
    base = `http://${await listen(server)}`;
    tlsBase = `https://${await listen(tlsServer)}`;
    const gone = createServer();
    closedBase = `http://${await listen(gone)}`;
    await close(gone);
  });
  afterAll(async () => {
    await close(server);
    await close(tlsServer);
  });

  const port = createHttpPort({ signal: new AbortController().signal, timeoutMs: 2_000, clock });
  const call = <T>(path: string, extra: Partial<HttpRequest<T>> = {}) =>
    port.request<T>({ service: 'the test service', target: 'statuspage', url: `${base}${path}`, schema: anything as z.ZodType<T>, ...extra });
  const failure = async (promise: Promise<unknown>): Promise<HttpError> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof HttpError)) throw new Error(`expected an HttpError, got ${String(error)}`);
    expect(error).toBeInstanceOf(UnreachableError);
    expect(exitCodeFor(error)).toBe(4);
    expect(error.message).not.toContain('\n');
    expect(error.message.startsWith('the test service ')).toBe(true);
    expect(error.hint).toBeTruthy();
    return error;
  };

  it('sends JSON with the caller headers and query, and validates the answer', async () => {
    const response = await call('/echo', {
      method: 'POST',
      query: { page: '2' },
      headers: { Authorization: 'Bearer xoxb-secret-token' },
      body: { text: 'SEV2 opened' },
      schema: echo,
    });
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ method: 'POST', auth: 'Bearer xoxb-secret-token', type: 'application/json', url: '/echo?page=2', body: { text: 'SEV2 opened' } });
    expect(response.header('Content-Type')).toBe('application/json; charset=utf-8');
  });

  it('accepts +json types, an empty 204, and text when asked for text', async () => {
    expect((await call('/problem')).data).toEqual({ ok: true });
    expect((await call('/empty', { schema: z.undefined() })).status).toBe(204);
    expect((await call('/text-ok', { accept: 'text', schema: z.literal('ok') })).data).toBe('ok');
  });

  it('follows a bounded number of redirects and reports where it ended', async () => {
    const response = await call('/to-echo', { schema: echo });
    expect(response.data.url).toBe('/echo');
    expect(response.url).toBe(`${base}/echo`);
    const loop = await failure(call('/loop', { maxRedirects: 3 }));
    expect(loop.kind).toBe('redirects');
    expect(loop.message).toContain('redirected more than 3 times');
  });

  it('never reads an HTML page as data, even behind a redirect or labelled JSON', async () => {
    const page = await failure(call('/html'));
    expect(page.kind).toBe('html');
    expect(page.message).toBe(`the test service answered an HTML page, not JSON (${base}/html)`);
    const redirected = await failure(call('/to-html'));
    expect(redirected.kind).toBe('html');
    expect(redirected.message).toContain(`after a redirect to ${base}/html`);
    expect((await failure(call('/html-as-json'))).kind).toBe('html');
  });

  it('refuses a non-JSON content type, a body that does not parse and one of the wrong shape', async () => {
    const plain = await failure(call('/plain'));
    expect([plain.kind, plain.message]).toEqual(['content-type', `the test service answered "text/plain", not JSON (${base}/plain)`]);
    expect((await failure(call('/untyped'))).message).toContain('answered no content type, not JSON');
    expect((await failure(call('/garbage'))).kind).toBe('invalid-body');
    const shape = await failure(call('/wrong-shape', { schema: z.object({ page: z.object({ id: z.string() }) }) }));
    expect(shape.kind).toBe('invalid-body');
    expect(shape.message).toContain('page.id:');
  });

  it("quotes the service's own error body, and exposes Retry-After", async () => {
    const limited = await failure(call('/rate-limited'));
    expect(limited.status).toBe(429);
    expect(limited.retryAfterMs).toBe(30_000);
    expect(limited.serviceMessage).toBe('Number of requests has exceeded your rate limit');
    expect(limited.message).toBe(
      `the test service answered 429 Too Many Requests: Number of requests has exceeded your rate limit (Retry-After 30s) (${base}/rate-limited)`,
    );
    expect(limited.hint).toBe('wait 30s and retry');
    expect((await failure(call('/slack-denied'))).message).toContain('answered 403 Forbidden: invalid_auth');
    expect((await failure(call('/pagerduty-invalid'))).serviceMessage).toBe("Event object is invalid; Length of 'routing_key' is incorrect");
    const gateway = await failure(call('/bad-gateway'));
    expect(gateway.message).toContain('answered 502 Bad Gateway with an HTML page');
    const unavailable = await failure(call('/unavailable'));
    expect(unavailable.retryAfterMs).toBe(120_000);
    expect(unavailable.serviceMessage).toBe('upstream connect error');
    expect(unavailable.message).not.toContain('\x1b');
  });

  it("uses the caller's hint, which may depend on the failure", async () => {
    const error = await failure(call('/html', { hint: (f) => (f.kind === 'html' ? 'set aiProvider.providers[].statusPage to the page root' : undefined) }));
    expect(error.hint).toBe('set aiProvider.providers[].statusPage to the page root');
    expect((await failure(call('/garbage', { hint: () => undefined }))).hint).toContain('curl -sS');
  });

  it('names refused, reset, DNS and TLS failures', async () => {
    const refused = await failure(port.request({ service: 'the test service', target: 'slack', url: `${closedBase}/x`, schema: anything }));
    expect([refused.kind, refused.target]).toEqual(['refused', 'slack']);
    expect(refused.message).toBe(`the test service could not be reached: connection refused (${closedBase}/x)`);
    expect((await failure(call('/reset'))).kind).toBe('reset');
    const dns = await failure(port.request({ service: 'the test service', target: 'statuspage', url: 'http://status.nowhere.invalid/api/v2/summary.json', schema: anything }));
    expect(dns.kind).toBe('dns');
    expect(dns.message).toContain('host not found');
    const tls = await failure(port.request({ service: 'the test service', target: 'statuspage', url: `${tlsBase}/echo`, schema: anything }));
    expect(tls.kind).toBe('tls');
    expect(tls.hint).toContain('NODE_EXTRA_CA_CERTS');
  });

  it('ends a call at its deadline, also while a body drips in, and names a cut-off body', async () => {
    const hung = await failure(call('/hang', { timeoutMs: 150 }));
    expect([hung.kind, hung.message]).toEqual(['timeout', `the test service did not answer within 150ms (${base}/hang)`]);
    const started = Date.now();
    expect((await failure(call('/drip', { timeoutMs: 200 }))).kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1_500);
    expect((await failure(call('/truncated'))).kind).toBe('truncated');
    const small = createHttpPort({ signal: new AbortController().signal, timeoutMs: 2_000, clock, maxBodyBytes: 1024 });
    const huge = await failure(small.request({ service: 'the test service', target: 'statuspage', url: `${base}/huge`, schema: anything }));
    expect(huge.kind).toBe('too-large');
  });

  it("stops at the caller's signal, and at the run's as a cancellation", async () => {
    const check = new AbortController();
    const pending = failure(call('/hang', { signal: check.signal, timeoutMs: 10_000 }));
    setTimeout(() => check.abort(), 50);
    expect((await pending).kind).toBe('timeout');

    const run = new AbortController();
    const cancellable = createHttpPort({ signal: run.signal, timeoutMs: 10_000, clock });
    const cancelled = cancellable.request({ service: 'the test service', target: 'statuspage', url: `${base}/hang`, schema: anything });
    setTimeout(() => run.abort(), 50);
    await expect(cancelled).rejects.toBeInstanceOf(CancelledError);
    await expect(cancellable.request({ service: 's', target: 'statuspage', url: `${base}/echo`, schema: anything })).rejects.toBeInstanceOf(CancelledError);
  });

  it('keeps secrets in the URL out of its messages', async () => {
    const error = await failure(call('/html', { query: { token: 'sk-live-abcdef123456' } }));
    expect(error.message).not.toContain('sk-live-abcdef123456');
    expect(error.url).not.toContain('sk-live-abcdef123456');
  });
});
