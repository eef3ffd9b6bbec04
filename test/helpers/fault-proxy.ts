import { createServer, request as forward, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** What the proxy does to a request whose path matches. */
export type Fault =
  | { kind: 'status'; status: number; message?: string }
  /** 429 with `Retry-After: seconds`, `times` times, then the request passes. */
  | { kind: 'throttle'; retryAfter: number; times: number }
  /** Accepts the request and never answers. */
  | { kind: 'hang' }
  /** The real answer, one byte every `everyMs`. */
  | { kind: 'drip'; everyMs: number }
  /** Closes the connection before any answer. */
  | { kind: 'reset' }
  /** The real status and Content-Length, half the body, then the connection closes. */
  | { kind: 'truncate' }
  /** 200 with a login page instead of JSON, as a misconfigured ingress answers. */
  | { kind: 'html' };

export interface FaultRule {
  /** Matched against `METHOD /path` (no query), e.g. /^GET .*\/pods$/. */
  match: RegExp;
  fault: Fault;
}

/** A fault-injecting HTTP proxy in front of the Kubernetes simulator (plain HTTP on 127.0.0.1, port 0). */
export interface FaultProxy {
  url: string;
  /** Requests that met a fault, as `METHOD /path`. */
  faulted: string[];
  /** Everything that reached the simulator through the proxy, as `METHOD /path`. */
  passed: string[];
  /** Connections currently open from the client to the proxy (a hung request that was abandoned closes its own). */
  openConnections(): number;
  close(): Promise<void>;
}

/**
 * Starts a proxy that passes requests (and exec upgrades) to `upstream` unless a rule matches. The tests of
 * every command under transport faults run through it: 5xx, 401/403, 429 with Retry-After, hangs, slow
 * drips, resets, truncated and HTML bodies.
 */
export async function startFaultProxy(upstream: string, rules: FaultRule[]): Promise<FaultProxy> {
  const target = new URL(upstream);
  const faulted: string[] = [];
  const passed: string[] = [];
  const throttled = new Map<FaultRule, number>();
  const sockets = new Set<Socket>();
  const pass = (request: IncomingMessage, response: ServerResponse, shape?: (upstreamResponse: IncomingMessage) => void) => {
    const outbound = forward(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        if (shape) return shape(answer);
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    outbound.on('error', () => response.destroy());
    request.pipe(outbound);
  };
  const server = createServer((request, response) => {
    const line = `${request.method} ${new URL(request.url ?? '/', 'http://x').pathname}`;
    const rule = rules.find((r) => r.match.test(line));
    if (!rule) {
      passed.push(line);
      return pass(request, response);
    }
    const { fault } = rule;
    if (fault.kind === 'throttle') {
      const seen = throttled.get(rule) ?? 0;
      if (seen >= fault.times) {
        passed.push(line);
        return pass(request, response);
      }
      throttled.set(rule, seen + 1);
    }
    faulted.push(line);
    passed.push(...(fault.kind === 'drip' || fault.kind === 'truncate' ? [line] : []));
    switch (fault.kind) {
      case 'status':
        return status(response, fault.status, fault.message ?? 'injected fault');
      case 'throttle':
        response.setHeader('Retry-After', String(fault.retryAfter));
        return status(response, 429, 'too many requests, please try again later');
      case 'hang':
        request.resume();
        return;
      case 'reset':
        request.socket.destroy();
        return;
      case 'html':
        response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        response.end('<!DOCTYPE html><html><body><h1>Sign in</h1><form action="/login"></form></body></html>');
        return;
      case 'truncate':
        return pass(request, response, (answer) =>
          whole(answer, (body) => {
            response.writeHead(answer.statusCode ?? 200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) });
            // Closed cleanly once the half is out: a reset could make the client drop what already arrived.
            response.write(body.subarray(0, Math.floor(body.length / 2)), () => response.socket?.end());
          }),
        );
      case 'drip':
        return pass(request, response, (answer) =>
          whole(answer, (body) => {
            response.writeHead(answer.statusCode ?? 200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) });
            let sent = 0;
            const timer = setInterval(() => {
              if (response.destroyed || sent >= body.length) {
                clearInterval(timer);
                if (!response.destroyed) response.end();
                return;
              }
              response.write(body.subarray(sent, sent + 1));
              sent += 1;
            }, fault.everyMs);
            response.on('close', () => clearInterval(timer));
          }),
        );
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Exec upgrades pass through untouched unless a rule matches (then the rule's fault is answered on the socket).
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    const line = `${request.method} ${new URL(request.url ?? '/', 'http://x').pathname}`;
    const rule = rules.find((r) => r.match.test(line));
    if (rule) {
      faulted.push(line);
      if (rule.fault.kind === 'hang') return;
      if (rule.fault.kind === 'status') {
        const body = JSON.stringify(statusBody(rule.fault.status, rule.fault.message ?? 'injected fault'));
        socket.end(`HTTP/1.1 ${rule.fault.status} Injected\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        return;
      }
      socket.destroy();
      return;
    }
    passed.push(line);
    const outbound = connect(Number(target.port), target.hostname, () => {
      const headers = Object.entries(request.headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
      outbound.write(`${request.method} ${request.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
      outbound.write(head);
      outbound.pipe(socket);
      socket.pipe(outbound);
    });
    outbound.on('error', () => socket.destroy());
    socket.on('error', () => outbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    faulted,
    passed,
    openConnections: () => sockets.size,
    close: async () => {
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The upstream answer's whole body. */
function whole(answer: IncomingMessage, then: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  answer.on('data', (chunk: Buffer) => chunks.push(chunk));
  answer.on('end', () => then(Buffer.concat(chunks)));
}

function statusBody(code: number, message: string): object {
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable' }[code] ?? 'Unknown';
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function status(response: ServerResponse, code: number, message: string): void {
  const body = JSON.stringify(statusBody(code, message));
  response.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
  response.end(body);
}
