import { setMaxListeners } from 'node:events';
import { CancelledError, DeadlineError } from './errors.js';

/**
 * Deadlines and cancellation as one mechanism: every port call takes an `AbortSignal`. The run's signal
 * aborts on Ctrl-C, SIGTERM or SIGHUP; a check's signal (see {@link deadlineSignal}) also aborts when its
 * deadline passes, carrying a {@link DeadlineError} that says which deadline it was. A port that sees its
 * signal abort stops its I/O and rejects with {@link abortReason}.
 */

/** The error a call stopped by `signal` ends with: the deadline that passed, else "cancelled". */
export function abortReason(signal: AbortSignal, target: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof DeadlineError || reason instanceof CancelledError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new DeadlineError(target, `the deadline passed while waiting for the ${target}`);
  }
  return new CancelledError();
}

/**
 * A signal that aborts when `parent` does, or after `ms` with `onDeadline()` as its reason. `clear` stops
 * the timer; `end` aborts it as well, so that I/O a finished piece of work abandoned stops too.
 */
export function deadlineSignal(
  parent: AbortSignal,
  ms: number,
  onDeadline: () => DeadlineError,
): { signal: AbortSignal; clear(): void; end(): void } {
  const controller = new AbortController();
  // Each port call in flight listens on it; a check reading many pods at once is not a leak.
  setMaxListeners(0, controller.signal);
  const onParent = () => controller.abort(parent.reason);
  const timer = setTimeout(() => controller.abort(onDeadline()), ms);
  const clear = () => {
    clearTimeout(timer);
    parent.removeEventListener('abort', onParent);
  };
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onParent, { once: true });
  controller.signal.addEventListener('abort', clear, { once: true });
  return { signal: controller.signal, clear, end: () => controller.abort(new CancelledError('the work this request was for has ended')) };
}

/** How long undoing a run's own hold (releasing its lock) may take once the run is over or cancelled. */
const CLEANUP_MS = 5_000;

/**
 * The signal for cleanup that must happen even after Ctrl-C (giving a lock back): not the run's signal,
 * which has aborted by then, but a short deadline of its own.
 */
export function cleanupSignal(): AbortSignal {
  return AbortSignal.timeout(CLEANUP_MS);
}

/**
 * Settles with `work`, or rejects with {@link abortReason} as soon as `signal` aborts, so a caller never
 * waits on I/O that was told to stop. `onAbort` stops that I/O.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal, target: string, onAbort: () => void = () => undefined): Promise<T> {
  if (signal.aborted) {
    onAbort();
    work.catch(() => undefined);
    return Promise.reject(abortReason(signal, target));
  }
  return new Promise<T>((resolve, reject) => {
    const stop = () => {
      onAbort();
      reject(abortReason(signal, target));
    };
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}
