import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as a simulator received it: what a game day shows and what tests assert on. */
export interface Received {
  at: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Parsed JSON, or the text when it is not JSON. */
  body: unknown;
  /** The status it was answered with. */
  status: number;
}

/** An answer: the status, the body as the real service writes it, its headers. */
export interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** A fault to answer instead of the service's own behaviour: an error answer, or a connection reset. */
export type Fault = Answer | { reset: true };

/** An outbound service stood in for on 127.0.0.1. */
export interface HttpSimulator {
  url: string;
  received: Received[];
  /** Answers the next requests whose path matches with these faults, one each, in order; then behaves again. */
  fail(path: RegExp, ...faults: Fault[]): void;
  /** Drops the faults not answered yet: the service behaves again. */
  heal(): void;
  close(): Promise<void>;
}

export type Handler = (request: { method: string; path: string; headers: Record<string, string>; body: unknown; text: string }) => Answer;

/** JSON as the services send it. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return { status, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers } };
}

/**
 * The frame of the outbound simulators (Slack, PagerDuty, Statuspage): an HTTP server on port 0
 * that records every request, lets a test or a drill script faults per path, and reports each
 * request to `print` (what a game day watches).
 */
export async function startHttpSimulator(handler: Handler, print?: (received: Received) => void): Promise<HttpSimulator> {
  const received: Received[] = [];
  const faults: Array<{ path: RegExp; fault: Fault }> = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON: kept as text, and the handler answers as the service does.
      }
      const path = new URL(request.url ?? '/', 'http://simulator').pathname;
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
      const index = faults.findIndex((f) => f.path.test(path));
      const fault = index >= 0 ? faults.splice(index, 1)[0]?.fault : undefined;
      const record = (status: number) => {
        const entry = { at: new Date().toISOString(), method: request.method ?? 'GET', path, headers, body, status };
        received.push(entry);
        print?.(entry);
      };
      if (fault && 'reset' in fault) {
        record(0);
        request.socket.destroy();
        return;
      }
      const answer = fault ?? handler({ method: request.method ?? 'GET', path, headers, body, text });
      record(answer.status);
      response.writeHead(answer.status, { 'Content-Type': 'text/plain; charset=utf-8', ...answer.headers }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    fail: (path, ...more) => faults.push(...more.map((fault) => ({ path, fault }))),
    heal: () => void faults.splice(0),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
