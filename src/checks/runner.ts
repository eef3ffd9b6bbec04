import { mapLimited } from '../core/concurrency.js';
import type { Context } from '../core/context.js';
import { deadlineSignal, untilAborted } from '../core/cancellation.js';
import { CancelledError, DeadlineError, UnreachableError, UsageError, hintFor } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import type { Finding } from '../core/findings.js';
import { SkipCheck, type Check, type Target } from './check.js';
import { forOneCheck, forOneRun } from './kubernetes/snapshot.js';

export type CheckStatus = 'ok' | 'findings' | 'skipped' | 'errored';

/** What happened to one check, as reported in `checks[]`. */
export interface CheckOutcome {
  id: string;
  title: string;
  target: Target;
  status: CheckStatus;
  durationMs: number;
  /** Why it errored (null otherwise). */
  error: string | null;
  /** Why it was skipped (null otherwise). */
  reason: string | null;
  /** Set when the check's target could not be reached or refused access. */
  unreachable: boolean;
  /** The next thing to try when it errored. */
  hint: string | null;
  findings: Finding[];
  /** What `collect` gathered (undefined unless it ran), for assessments that read more than one check. */
  evidence?: unknown;
}

export interface RunOptions {
  /** Deadline of each check. */
  checkTimeoutMs: number;
  /** Deadline of the whole run (`--timeout`). */
  timeoutMs: number;
  /** Checks running at once. */
  concurrency?: number;
}

/**
 * Runs checks concurrently, each under its own deadline and all under the global one. A check that
 * fails, times out or cannot reach its target is reported as `errored` without stopping the others;
 * only a usage error (the operator's configuration is wrong) or cancellation ends the run. The
 * checks of one run share what is gathered once for it (the workload snapshot).
 */
export async function runChecks(parent: Context, checks: Check[], options: RunOptions): Promise<CheckOutcome[]> {
  const started = Date.now();
  const ctx = forOneRun(parent, checks);
  const outcomes = await mapLimited(checks, options.concurrency ?? 8, (check) => {
    const remaining = Math.max(0, options.timeoutMs - (Date.now() - started));
    const own = check.deadline?.(ctx.config) ?? options.checkTimeoutMs;
    // Say which deadline ended a check: its own, or the run's --timeout.
    const deadline =
      remaining < own
        ? { ms: remaining, says: `the run's ${formatDuration(options.timeoutMs)} deadline (--timeout) passed` }
        : { ms: own, says: `timed out after ${formatDuration(own)}` };
    return runOne(ctx, check, deadline);
  });
  if (ctx.signal.aborted) throw new CancelledError();
  return outcomes;
}

async function runOne(ctx: Context, check: Check, deadline: Deadline): Promise<CheckOutcome> {
  const started = Date.now();
  const base = { id: check.id, title: check.title, target: check.target };
  const done = (rest: Omit<CheckOutcome, 'id' | 'title' | 'target' | 'durationMs'>): CheckOutcome => {
    const durationMs = Date.now() - started;
    ctx.logger.debug(`check ${check.id}: ${rest.status} in ${durationMs}ms${rest.findings.length ? ` (${rest.findings.map((f) => f.code).join(', ')})` : ''}`);
    return { ...base, durationMs, ...rest };
  };
  // The check's own signal: its deadline or Ctrl-C aborts every request it has in flight.
  const { signal, end } = deadlineSignal(
    ctx.signal,
    deadline.ms,
    () => new DeadlineError(check.target, `${deadline.says} while waiting for the ${check.target}`),
  );
  try {
    // After Ctrl-C no further check may start: it could still exec into a pod or query a database.
    if (ctx.signal.aborted) throw new CancelledError();
    // Raced as well, so a check whose I/O does not listen still ends on time.
    const evidence = await untilAborted(check.collect(forOneCheck(ctx, signal)), signal, check.target);
    const findings = check.evaluate(evidence, { config: ctx.config, now: ctx.clock.now() });
    return done({ status: findings.length ? 'findings' : 'ok', error: null, reason: null, unreachable: false, hint: null, findings, evidence });
  } catch (error) {
    if (error instanceof SkipCheck) {
      return done({ status: 'skipped', error: null, reason: error.message, unreachable: false, hint: null, findings: [] });
    }
    if (ctx.signal.aborted) throw new CancelledError();
    if (error instanceof UsageError) throw error;
    const unreachable = error instanceof UnreachableError;
    ctx.logger.debug(`check ${check.id} failed: ${(error as Error).stack ?? String(error)}`);
    return done({ status: 'errored', error: (error as Error).message, reason: null, unreachable, hint: hintFor(error) ?? null, findings: [] });
  } finally {
    // Reads a check gave up on (a partial log read) stop with it.
    end();
  }
}

/** When a check must have finished, and how to say that it did not. */
interface Deadline {
  ms: number;
  says: string;
}
