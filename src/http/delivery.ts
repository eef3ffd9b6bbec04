import { DeliveryError } from '../incident/outbox.js';
import { HttpError } from './errors.js';

/**
 * Reads a failed call the way the outbox must: a rate limit (429, Statuspage's 420) waits for
 * `Retry-After`; a 5xx, a refused connection or a DNS failure may be retried, since the message did
 * not arrive; a reset, a timeout or a cut-off answer may be retried only where repeating is harmless,
 * since the service may have acted on it; any other 4xx is final.
 */
export function deliveryErrorOf(error: unknown): unknown {
  if (!(error instanceof HttpError)) return error;
  const retryAfterMs = error.retryAfterMs ?? undefined;
  switch (error.kind) {
    case 'status': {
      const status = error.status ?? 0;
      const retryable = status === 429 || status === 420 || status >= 500;
      return new DeliveryError(error.message, retryable, { retryAfterMs });
    }
    case 'refused':
    case 'dns':
      return new DeliveryError(error.message, true, {});
    case 'reset':
    case 'timeout':
    case 'truncated':
    case 'network':
      return new DeliveryError(error.message, true, { mayHaveArrived: true });
    default:
      // A 2xx that is not the answer the API gives (HTML from a proxy, garbage): it may have acted on it.
      return new DeliveryError(error.message, false, { mayHaveArrived: true });
  }
}

/** Runs a call, translating its failure for the outbox. */
export async function delivering<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw deliveryErrorOf(error);
  }
}
