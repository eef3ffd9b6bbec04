import type * as z from 'zod';
import type { HttpErrorDetails } from './errors.js';

/** HTTP methods the outbound clients use. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * One call to an outbound service (a status page, Slack, PagerDuty, Statuspage's write API).
 *
 * The answer must be what the caller asked for: with `accept: 'json'` (the default) a 2xx answer
 * whose content type is not JSON, an HTML page (a login wall, a captive portal, a redirect to one),
 * a body that does not parse, or one that does not match `schema` is an {@link HttpError}, never data.
 */
export interface HttpRequest<T> {
  /** Who is being asked, as the operator knows it: "Anthropic's status page", "Slack". Starts every error message. */
  service: string;
  /** The report's target of a failure, e.g. `statuspage` (see `UnreachableError.target`). */
  target: string;
  method?: HttpMethod;
  url: string;
  /** Query parameters, appended to `url`. */
  query?: Record<string, string>;
  /** Sent as given; a value here is never echoed in an error. */
  headers?: Record<string, string>;
  /** Serialised as JSON with `Content-Type: application/json`. */
  body?: unknown;
  /** `json` (default): a JSON body validated by `schema`; `text`: the body as a string validated by `schema`. */
  accept?: 'json' | 'text';
  /** Validates the 2xx body. A 204 or empty body is validated as `undefined`. */
  schema: z.ZodType<T>;
  /** Deadline of this call, from the first byte sent to the last byte read; defaults to the port's. */
  timeoutMs?: number;
  /** Ends this call early too (a check's deadline); the run's own signal always applies. */
  signal?: AbortSignal;
  /** Redirects followed before giving up; default 5. */
  maxRedirects?: number;
  /**
   * The next thing to try when the call fails (e.g. the config key holding the URL or token); given the
   * failure, so it can depend on its kind or status. Without one, or when it returns nothing, a default
   * for the kind of failure is used.
   */
  hint?: string | ((failure: HttpErrorDetails) => string | undefined);
  /** Reads the service's own error message from a non-2xx JSON body, when the generic reading misses it. */
  errorMessage?: (body: unknown) => string | undefined;
}

/** A successful (2xx) answer, validated. */
export interface HttpResponse<T> {
  status: number;
  data: T;
  /** A response header by lower-case name. */
  header(name: string): string | undefined;
  /** The URL that answered, after redirects, as it may be shown. */
  url: string;
}

/**
 * The outbound HTTP API of a run: every call bounded by its own deadline and the run's abort signal,
 * bodies validated with zod, redirects bounded, and each failure an {@link HttpError} whose message
 * is one line naming the service. Implemented over axios by `createHttpPort`.
 */
export interface HttpPort {
  request<T>(request: HttpRequest<T>): Promise<HttpResponse<T>>;
}
