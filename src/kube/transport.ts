import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { abortReason, untilAborted } from '../core/cancellation.js';
import { messageLine } from '../core/neutralise.js';
import { CancelledError, DeadlineError, UnreachableError } from '../core/errors.js';
import { describeNetworkCode, isTlsCode, networkCode } from '../core/network.js';

/**
 * Sockets open at once to the API server. Every check, log read and exec of a run shares them, so a
 * namespace of 5,000 pods costs a handful of TLS handshakes, not one per request.
 */
export const MAX_SOCKETS = 8;

/** 429 Too Many Requests: attempts in all, and the longest `Retry-After` waited for. */
export const THROTTLE_ATTEMPTS = 3;
const THROTTLE_WAIT_CAP_MS = 5_000;

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One API request. `path` is already encoded; `what` names it in messages ("list pods"). */
export interface KubeRequest {
  method: Method;
  path: string;
  query?: Record<string, string | number | boolean | readonly string[] | undefined>;
  body?: unknown;
  contentType?: string;
  what: string;
  signal: AbortSignal;
  /** `Accept`; JSON unless said (the pod proxy serves anything). */
  accept?: string;
  /** Read at most this many bytes of the body, then stop and mark the answer truncated. */
  limitBytes?: number;
  /** Whether a 429 is waited out and retried (default); the Eviction API's 429 is an answer, not throttling. */
  retryThrottled?: boolean;
}

/** A complete answer: the body arrived whole (a truncated one is an error, never an answer). */
export interface KubeAnswer {
  status: number;
  contentType: string;
  body: Buffer;
  /** The `Retry-After` header of a 429 or 503. */
  retryAfter?: string;
  /** The body was longer than `limitBytes` and was cut there. */
  truncated?: boolean;
}

/** What an HTTP upgrade (exec) needs: the URL, the shared agent and the credentials of this moment. */
export interface UpgradeOptions {
  url: string;
  agent: HttpAgent;
  headers: Record<string, string>;
}

/**
 * The connection to one API server for a whole run: one keep-alive agent with {@link MAX_SOCKETS}
 * sockets for every read, write, log and exec, and `@kubernetes/client-node`'s `KubeConfig` as the source
 * of credentials for every auth mode it supports (tokens, client certificates, exec plugins, OIDC,
 * in-cluster): `applyToHTTPSOptions` is asked on every request when the credentials can change during a run
 * (an exec plugin's or an auth-provider's token, which they refresh), and once when they cannot (a token, a
 * client certificate or a password the kubeconfig holds).
 *
 * Transport failures come out translated, one line naming the API server and what to try: refused, reset,
 * DNS, TLS, a body cut off mid-response, an HTML page where JSON was expected. A request stops as soon
 * as its signal aborts, with the deadline or cancellation as its error.
 */
export class KubeTransport {
  private agent: HttpAgent | undefined;
  private agentKey = '';
  /** The credentials of a user whose credentials cannot change during the run, once asked for. */
  private fixed: Promise<{ options: RequestOptions; agent: HttpAgent }> | undefined;
  /** TCP connections opened, for `-v` and the tests. */
  connectionsOpened = 0;

  constructor(
    private readonly kc: KubeConfig,
    /** The API server's URL, as messages show it. */
    readonly server: string,
  ) {}

  /** Sends a request and reads its whole answer, whatever its status; 429s are retried as the server asks. */
  async send(request: KubeRequest): Promise<KubeAnswer> {
    for (let attempt = 1; ; attempt += 1) {
      const answer = await this.once(request);
      if (answer.status !== 429 || request.retryThrottled === false || attempt >= THROTTLE_ATTEMPTS) return answer;
      await sleep(retryAfterMs(answer), undefined, { signal: request.signal }).catch(() => {
        throw abortReason(request.signal, 'cluster');
      });
    }
  }

  /** The URL, shared agent and headers for an upgrade to `path` (exec over WebSocket). */
  async upgrade(path: string, query: KubeRequest['query']): Promise<UpgradeOptions> {
    const { options, agent } = await this.prepare();
    const url = new URL(this.urlOf(path, query));
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return { url: url.toString(), agent, headers: headersOf(options) };
  }

  /** Ends the idle keep-alive sockets, so the process can exit. */
  close(): void {
    this.agent?.destroy();
  }

  /** Translates a failure of `what` that happened before any answer (refused, TLS, DNS…) into one line. */
  transportError(error: unknown, what: string): Error {
    if (error instanceof CancelledError || error instanceof DeadlineError || error instanceof UnreachableError) return error;
    const code = networkCode(error);
    if (code) {
      return new UnreachableError(
        'cluster',
        `cannot reach the Kubernetes API at ${this.server} (${describeNetworkCode(code)})`,
        isTlsCode(code)
          ? "check the cluster's certificate-authority in the kubeconfig, then try: kubectl cluster-info"
          : 'check --kubeconfig and --context, then try: kubectl cluster-info',
      );
    }
    return new UnreachableError(
      'cluster',
      `the request to ${what} at the Kubernetes API ${this.server} failed (${messageLine((error as Error)?.message ?? String(error))})`,
      'try: kubectl cluster-info',
    );
  }

  private async once(request: KubeRequest): Promise<KubeAnswer> {
    const { signal, what } = request;
    if (signal.aborted) throw abortReason(signal, 'cluster');
    const { options, agent } = await this.prepare();
    const body = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
    const url = new URL(this.urlOf(request.path, request.query));
    const headers: Record<string, string> = {
      ...headersOf(options),
      Accept: request.accept ?? 'application/json',
      ...(body ? { 'Content-Type': request.contentType ?? 'application/json', 'Content-Length': String(body.length) } : {}),
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: request.method, headers, agent });
    const answer = new Promise<KubeAnswer>((resolve, reject) => {
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const answerOf = (truncated: boolean): KubeAnswer => ({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks),
          retryAfter: res.headers['retry-after'],
          truncated,
        });
        const limit = request.limitBytes ?? Infinity;
        res.on('data', (chunk: Buffer) => {
          if (size + chunk.length <= limit) {
            chunks.push(chunk);
            size += chunk.length;
            return;
          }
          chunks.push(chunk.subarray(0, limit - size));
          resolve(answerOf(true));
          req.destroy();
        });
        // A body that ends early (a reset, a proxy giving up) is noticed the moment the socket closes.
        res.on('error', () => reject(this.truncated(what)));
        res.on('close', () => {
          if (!res.complete) reject(this.truncated(what));
        });
        res.on('end', () => {
          if (!res.complete) return reject(this.truncated(what));
          resolve(answerOf(false));
        });
      });
      req.on('error', (error) => reject(this.transportError(error, what)));
    });
    req.end(body);
    return untilAborted(answer, signal, 'cluster', () => req.destroy());
  }

  private truncated(what: string): UnreachableError {
    return new UnreachableError(
      'cluster',
      `the Kubernetes API at ${this.server} closed the connection mid-response to ${what}`,
      'a proxy or load balancer in front of the API server may be cutting responses; try: kubectl cluster-info',
    );
  }

  /** This moment's credentials, and the one agent they are sent through (rebuilt only if the TLS identity changed). */
  private prepare(): Promise<{ options: RequestOptions; agent: HttpAgent }> {
    if (this.fixed) return this.fixed;
    const prepared = this.credentials();
    const user = this.kc.getCurrentUser();
    if (!user?.exec && !user?.authProvider) {
      this.fixed = prepared;
      // A failure is said by the request that met it; the next request asks again.
      prepared.catch(() => (this.fixed = undefined));
    }
    return prepared;
  }

  private async credentials(): Promise<{ options: RequestOptions; agent: HttpAgent }> {
    const options: RequestOptions = {};
    try {
      await this.kc.applyToHTTPSOptions(options);
    } catch (error) {
      throw new UnreachableError(
        'cluster',
        `could not get credentials for the Kubernetes API at ${this.server} (${messageLine((error as Error)?.message ?? String(error))})`,
        "check the user's auth settings in the kubeconfig (exec plugin, token, client certificate), then try: kubectl auth whoami",
      );
    }
    const key = [options.cert, options.key, options.pfx].map((part) => (part ? Buffer.from(part as Buffer | string).toString('base64') : '')).join('|');
    if (!this.agent || key !== this.agentKey) {
      this.agent?.destroy();
      this.agent = this.makeAgent(options);
      this.agentKey = key;
    }
    return { options, agent: this.agent };
  }

  private makeAgent(options: RequestOptions): HttpAgent {
    const cluster = this.kc.getCurrentCluster();
    // A proxy (proxy-url) keeps client-node's own proxy agent, still one for the run.
    const agent: HttpAgent = cluster?.proxyUrl
      ? (options.agent as HttpAgent)
      : this.server.startsWith('http:')
        ? new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS })
        : new HttpsAgent({
            keepAlive: true,
            maxSockets: MAX_SOCKETS,
            ca: options.ca,
            cert: options.cert,
            key: options.key,
            pfx: options.pfx,
            passphrase: options.passphrase,
            servername: options.servername,
            ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
          });
    const create = agent.createConnection.bind(agent) as (...args: unknown[]) => unknown;
    (agent as { createConnection: (...args: unknown[]) => unknown }).createConnection = (...args: unknown[]) => {
      this.connectionsOpened += 1;
      return create(...args);
    };
    return agent;
  }

  private urlOf(path: string, query: KubeRequest['query']): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
    }
    const search = params.toString();
    return `${this.server.replace(/\/+$/, '')}${path}${search ? `?${search}` : ''}`;
  }
}

/** The headers client-node asked for (Authorization, Impersonate-User), with basic auth folded in. */
function headersOf(options: RequestOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  if (options.auth) headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
  return headers;
}

function retryAfterMs(answer: KubeAnswer): number {
  const seconds = Number(answer.retryAfter ?? 1);
  return Math.min(THROTTLE_WAIT_CAP_MS, Math.max(0, Number.isFinite(seconds) ? seconds * 1000 : 1000));
}
