import { STATUS_CODES } from 'node:http';
import type { AxiosError, AxiosResponse } from 'axios';
import type { Clock } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import { CancelledError } from '../core/errors.js';
import { describeNetworkCode, isTlsCode, networkCode } from '../core/network.js';
import { displayUrl } from '../core/redact.js';
import {
  HttpError,
  oneLine,
  parseRetryAfter,
  readsRetryAfter,
  serviceErrorMessage,
  type HttpErrorDetails,
  type HttpFailure,
} from './errors.js';
import type { HttpPort, HttpRequest, HttpResponse } from './port.js';

/** How a run's {@link HttpPort} behaves by default. */
export interface HttpPortOptions {
  /** The run's cancellation (Ctrl-C): every call ends with it, as a {@link CancelledError}. */
  signal: AbortSignal;
  /** Deadline of a call that names none. */
  timeoutMs: number;
  clock: Clock;
  /** Largest body read; a bigger one is an error, not a partial answer. Default 8 MiB. */
  maxBodyBytes?: number;
}

const DEFAULT_REDIRECTS = 5;
const DEFAULT_MAX_BODY = 8 * 1024 * 1024;

/**
 * The axios-backed {@link HttpPort}. axios is imported on the first call, so runs that never call out
 * never load it. Bodies are read as text and parsed here, so that an HTML page or garbage is named for
 * what it is instead of surfacing as a parser's message. The deadline is an `AbortSignal` covering the
 * whole exchange (axios's own `timeout` only bounds idle sockets, so a slow drip would outlive it).
 */
export function createHttpPort(options: HttpPortOptions): HttpPort {
  return {
    async request<T>(request: HttpRequest<T>): Promise<HttpResponse<T>> {
      const { default: axios } = await import('axios');
      const timeoutMs = request.timeoutMs ?? options.timeoutMs;
      const shown = displayUrl(withQuery(request.url, request.query));
      const fail = failureFor(request, shown);
      if (options.signal.aborted) throw new CancelledError();
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([options.signal, deadline, ...(request.signal ? [request.signal] : [])]);
      const maxRedirects = request.maxRedirects ?? DEFAULT_REDIRECTS;
      let response: AxiosResponse<string>;
      try {
        response = await axios.request<string>({
          method: request.method ?? 'GET',
          url: request.url,
          params: request.query,
          headers: {
            Accept: request.accept === 'text' ? 'text/plain, */*' : 'application/json',
            ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
            ...request.headers,
          },
          data: request.body === undefined ? undefined : JSON.stringify(request.body),
          responseType: 'text',
          responseEncoding: 'utf8',
          transformResponse: [(data: string) => data],
          validateStatus: () => true,
          maxRedirects,
          maxContentLength: options.maxBodyBytes ?? DEFAULT_MAX_BODY,
          signal,
        });
      } catch (error) {
        if (options.signal.aborted) throw new CancelledError();
        if (signal.aborted) {
          const why = deadline.aborted ? `did not answer within ${formatDuration(timeoutMs)}` : 'did not answer before the deadline';
          throw fail({ kind: 'timeout' }, why);
        }
        throw transportFailure(error as AxiosError, fail, maxRedirects);
      }
      return answer(request, response, shown, fail, options.clock.now());
    },
  };
}

type Fail = (details: Omit<HttpErrorDetails, 'service' | 'url'>, what: string) => HttpError;

/** Builds the call's errors: "<service> <what> (<url>)", with the caller's hint or the kind's default. */
function failureFor(request: HttpRequest<unknown>, shown: string): Fail {
  return (partial, what) => {
    const details: HttpErrorDetails = { ...partial, service: request.service, url: shown };
    const hint = (typeof request.hint === 'function' ? request.hint(details) : request.hint) ?? defaultHint(details);
    return new HttpError(request.target, `${request.service} ${what} (${shown})`, details, hint);
  };
}

function defaultHint({ kind, status, url, retryAfterMs }: HttpErrorDetails): string {
  switch (kind) {
    case 'dns':
      return `check the host name in ${url} and this machine's DNS`;
    case 'tls':
      return 'if the service uses a private certificate authority, point NODE_EXTRA_CA_CERTS at its certificate';
    case 'timeout':
      return `retry; if it stays slow, check the service's own status, then: curl -sS -m 10 ${url}`;
    case 'html':
    case 'content-type':
      return `open ${url} in a browser: a login page, proxy or wrong URL answers instead of the API`;
    case 'status':
      if (status === 401 || status === 403) return 'check the credentials configured for this service';
      if (status === 404) return `check the URL: ${url}`;
      if (retryAfterMs !== undefined) return `wait ${formatDuration(retryAfterMs)} and retry`;
      return status !== undefined && status >= 500 ? 'the service is failing; retry in a minute' : `check the request: curl -sS ${url}`;
    default:
      return `check that the service answers: curl -sS ${url}`;
  }
}

function transportFailure(error: AxiosError, fail: Fail, maxRedirects: number): HttpError {
  if (error.code === 'ERR_FR_TOO_MANY_REDIRECTS') return fail({ kind: 'redirects' }, `redirected more than ${maxRedirects} times`);
  if (error.code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(error.message)) {
    return fail({ kind: 'too-large' }, 'answered a body larger than aegis-ir reads');
  }
  if (error.code === 'ERR_BAD_RESPONSE' || error.code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return fail({ kind: 'truncated' }, 'closed the connection before the whole answer arrived');
  }
  const code = networkCode(error);
  const kinds: Record<string, HttpFailure> = { ECONNREFUSED: 'refused', ECONNRESET: 'reset', ENOTFOUND: 'dns', EAI_AGAIN: 'dns', ETIMEDOUT: 'timeout' };
  const kind: HttpFailure = code ? (kinds[code] ?? (isTlsCode(code) ? 'tls' : 'network')) : 'network';
  return fail({ kind }, `could not be reached: ${code ? describeNetworkCode(code) : oneLine(error.message)}`);
}

function answer<T>(request: HttpRequest<T>, response: AxiosResponse<string>, shown: string, fail: Fail, now: Date): HttpResponse<T> {
  const { status } = response;
  const header = (name: string) => {
    const value: unknown = response.headers[name.toLowerCase()];
    return value === undefined || value === null ? undefined : String(value);
  };
  const finalUrl = displayUrl(String((response.request as { res?: { responseUrl?: string } } | undefined)?.res?.responseUrl ?? shown));
  const redirected = finalUrl !== shown ? ` after a redirect to ${finalUrl}` : '';
  const body = typeof response.data === 'string' ? response.data : '';
  const contentType = (header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const html = contentType === 'text/html' || contentType === 'application/xhtml+xml' || /^\s*<(!doctype|html|head|body)\b/i.test(body);

  if (status < 200 || status >= 300) throw statusFailure(request, status, header, body, contentType, html, fail, now);

  let data: unknown;
  if (request.accept === 'text') data = status === 204 ? undefined : body;
  else if (status === 204 || body.trim() === '') data = undefined;
  else {
    if (html) throw fail({ kind: 'html', status }, `answered an HTML page, not JSON${redirected}`);
    if (!isJsonType(contentType)) {
      throw fail({ kind: 'content-type', status }, `answered ${contentType ? `"${oneLine(contentType, 60)}"` : 'no content type'}, not JSON${redirected}`);
    }
    try {
      data = JSON.parse(body);
    } catch {
      throw fail({ kind: 'invalid-body', status }, 'answered JSON that does not parse (a cut-off or garbled body)');
    }
  }
  const parsed = request.schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw fail({ kind: 'invalid-body', status }, `answered a body that is not what was expected (${oneLine(`${where}${issue?.message ?? 'invalid'}`, 120)})`);
  }
  return { status, data: parsed.data, header, url: finalUrl };
}

function statusFailure(
  request: HttpRequest<unknown>,
  status: number,
  header: (name: string) => string | undefined,
  body: string,
  contentType: string,
  html: boolean,
  fail: Fail,
  now: Date,
): HttpError {
  const retryAfterMs = readsRetryAfter(status) ? parseRetryAfter(header('retry-after'), now) : undefined;
  let serviceMessage: string | undefined;
  if (!html && isJsonType(contentType)) {
    try {
      const parsed: unknown = JSON.parse(body);
      serviceMessage = request.errorMessage?.(parsed) ?? serviceErrorMessage(parsed);
    } catch {
      // A cut-off error body: the status alone says enough.
    }
  } else if (!html && body.trim()) {
    serviceMessage = body.trim().split('\n')[0];
  }
  serviceMessage = serviceMessage === undefined ? undefined : oneLine(serviceMessage);
  const location = status >= 300 && status < 400 ? header('location') : undefined;
  const what = [
    `answered ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`,
    location ? ` redirecting to ${displayUrl(oneLine(location))}` : '',
    serviceMessage ? `: ${serviceMessage}` : html ? ' with an HTML page' : '',
    retryAfterMs !== undefined ? ` (Retry-After ${formatDuration(retryAfterMs)})` : '',
  ].join('');
  return fail({ kind: 'status', status, serviceMessage, retryAfterMs }, what);
}

/** `application/json`, or a structured `+json` type such as `application/problem+json`. */
function isJsonType(contentType: string): boolean {
  return contentType === 'application/json' || /^application\/[\w.+-]+\+json$/.test(contentType);
}

function withQuery(url: string, query: Record<string, string> | undefined): string {
  if (!query || !Object.keys(query).length) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${new URLSearchParams(query).toString()}`;
}
