import { UnreachableError } from '../core/errors.js';

/**
 * Why an outbound call failed. `refused`, `reset`, `dns`, `tls`, `network` and `timeout`: the service
 * was not reached or stopped answering. `truncated`, `too-large`, `redirects`, `html`, `content-type`,
 * `invalid-body`: it answered, but not with what was asked. `status`: a 3xx, 4xx or 5xx answer.
 */
export type HttpFailure =
  | 'refused'
  | 'reset'
  | 'dns'
  | 'tls'
  | 'network'
  | 'timeout'
  | 'truncated'
  | 'too-large'
  | 'redirects'
  | 'html'
  | 'content-type'
  | 'invalid-body'
  | 'status';

/** What an {@link HttpError} carries besides its one-line message. */
export interface HttpErrorDetails {
  kind: HttpFailure;
  service: string;
  /** The URL asked, as it may be shown (no credentials). */
  url: string;
  /** The HTTP status, when the service answered one. */
  status?: number;
  /** The service's own error message from its error body, one line. */
  serviceMessage?: string;
  /** From `Retry-After` on a 429, 420, 503 or other 5xx: how long the service asked to wait. */
  retryAfterMs?: number;
}

/**
 * A failed outbound call. It is an {@link UnreachableError} (exit 4, the check `errored`), since the
 * evidence or the delivery the service was asked for did not happen; callers that can wait read
 * `retryAfterMs`, callers that must tell a refusal apart read `status`.
 */
export class HttpError extends UnreachableError {
  readonly kind: HttpFailure;
  readonly service: string;
  readonly url: string;
  readonly status: number | null;
  readonly serviceMessage: string | null;
  readonly retryAfterMs: number | null;

  constructor(target: string, message: string, details: HttpErrorDetails, hint?: string) {
    super(target, message, hint);
    this.kind = details.kind;
    this.service = details.service;
    this.url = details.url;
    this.status = details.status ?? null;
    this.serviceMessage = details.serviceMessage ?? null;
    this.retryAfterMs = details.retryAfterMs ?? null;
  }
}

/** Longest piece of a service's own text quoted in a message. */
const QUOTED_MAX = 200;

/** Text from a service as one short line: control characters and escape sequences removed, whitespace folded. */
export function oneLine(text: string, max = QUOTED_MAX): string {
  const flat = text
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x1f\x7f-\x9f]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/**
 * The service's own error message in a non-2xx JSON body, read the ways the services aegis-ir talks to
 * write it: `{"error":{"message"}}` (Anthropic, OpenAI, PagerDuty REST), `{"message","errors":[...]}`
 * (PagerDuty Events), `{"ok":false,"error":"invalid_auth"}` (Slack), `{"error":"..."}` (Statuspage),
 * `detail`, `error_description`.
 */
export function serviceErrorMessage(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value : undefined);
  const error = record.error;
  const nested = error && typeof error === 'object' ? text((error as Record<string, unknown>).message) : undefined;
  const errors = Array.isArray(record.errors)
    ? record.errors
        .map((item) => text(item) ?? (item && typeof item === 'object' ? text((item as Record<string, unknown>).message) : undefined))
        .filter((item): item is string => item !== undefined)
    : [];
  const message = nested ?? text(record.message) ?? text(error) ?? text(record.detail) ?? text(record.error_description);
  const parts = [message, ...errors].filter((part): part is string => part !== undefined);
  return parts.length ? parts.join('; ') : undefined;
}

/** Statuses whose `Retry-After` is read: rate limited (429, and Twitter-style 420) and unavailable (5xx). */
export function readsRetryAfter(status: number): boolean {
  return status === 429 || status === 420 || status >= 500;
}

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date (relative to `now`); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
