import { setMaxListeners } from 'node:events';
import { formatDuration } from './duration.js';
import { CancelledError, DeadlineError } from './errors.js';

/**
 * Deadlines and cancellation as one mechanism: every port call takes an `AbortSignal`. The run's signal
 * aborts on Ctrl-C, SIGTERM or SIGHUP; a check's signal (see {@link deadlineSignal}) also aborts when its
 * deadline passes, carrying a {@link DeadlineError} that says which deadline it was. A port that sees its
 * signal abort stops its I/O and rejects with {@link abortReason}.
 */

/** The reason of a {@link callDeadline} signal: which call it ended is said by the port that sees it. */
class CallTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${formatDuration(ms)}`);
  }
}

/**
 * `parent`, bounded by `ms` for one call (`--timeout` of a remediation's calls): a call it ends rejects with
 * a {@link DeadlineError} naming its target and the deadline. The timer never keeps the process alive.
 */
export function callDeadline(parent: AbortSignal, ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new CallTimeout(ms)), ms).unref();
  return AbortSignal.any([parent, controller.signal]);
}

/** The error a call stopped by `signal` ends with: the deadline that passed, else "cancelled". */
export function abortReason(signal: AbortSignal, target: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof DeadlineError || reason instanceof CancelledError) return reason;
  if (reason instanceof CallTimeout) {
    return new DeadlineError(target, `the ${target} did not answer within ${formatDuration(reason.ms)} (--timeout)`, `retry; if the ${target} stays this slow, raise --timeout`);
  }
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
