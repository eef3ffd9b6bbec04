/**
 * Typed errors the CLI maps to the exit codes of the product contract. Only `exitCodeFor` decides a
 * process's exit status, so every command reports failure by throwing one of these (or returning a code).
 */

/**
 * The one table of outcomes and their exit codes (SPEC "Exit codes"), with the words `--help` uses for
 * each. Every exit status of the process comes from here.
 */
export const OUTCOMES = {
  ok: { code: 0, brief: 'ok' },
  internal: { code: 1, brief: 'internal error' },
  usage: { code: 2, brief: 'usage or configuration' },
  severity: { code: 3, brief: 'severity at or above --fail-on' },
  unreachable: { code: 4, brief: 'verdict incomplete or target unreachable' },
  guard: { code: 5, brief: 'refused by a guard, nothing changed' },
  partial: { code: 6, brief: 'partially applied' },
  cancelled: { code: 130, brief: 'cancelled, nothing changed' },
} as const;

export type Outcome = keyof typeof OUTCOMES;

/** Exit codes by outcome: `ExitCode.guard` is 5. */
export const ExitCode = Object.fromEntries(Object.entries(OUTCOMES).map(([name, o]) => [name, o.code])) as {
  readonly [K in Outcome]: (typeof OUTCOMES)[K]['code'];
};
export type ExitCodeValue = (typeof ExitCode)[Outcome];

/** "0 ok, 1 internal error, …", for `--help`. */
export function exitCodeSummary(): string {
  return Object.values(OUTCOMES)
    .map((o) => `${o.code} ${o.brief}`)
    .join(', ');
}

/** A problem with what the user typed or configured; `hint` is the next command to try. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A bad value in the config file, environment or flags: names the key, the value and what was expected. */
export class ConfigError extends UsageError {
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly expected: string,
    hint?: string,
  ) {
    super(`${key}: ${describeValue(value)} is not valid; expected ${expected}`, hint);
  }
}

/** A target needed for the verdict (cluster, database, Prometheus) could not be reached or refused access. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
  constructor(
    readonly target: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * A call ran out of time: a check's deadline, the run's `--timeout`. Unreachable for the exit code (4): the
 * target did not give its answer in time.
 */
export class DeadlineError extends UnreachableError {}

/** A remediation guard refused to go on: plan changed, lock held, permission denied, cap exceeded. */
export class GuardError extends Error {
  override readonly name = 'GuardError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The operator cancelled (Ctrl-C or "no" at a confirmation); nothing changed. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor(message = 'cancelled; nothing was changed') {
    super(message);
  }
}

/** Maps any thrown value to the contract's exit code; anything untyped is a bug (1). */
export function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof UsageError) return ExitCode.usage;
  if (error instanceof UnreachableError) return ExitCode.unreachable;
  if (error instanceof GuardError) return ExitCode.guard;
  if (error instanceof CancelledError) return ExitCode.cancelled;
  return ExitCode.internal;
}

/** The hint of a typed error, when it carries one. */
export function hintFor(error: unknown): string | undefined {
  if (error instanceof UsageError || error instanceof UnreachableError || error instanceof GuardError) {
    return error.hint;
  }
  return undefined;
}

/** Quotes a value for an error message, keeping it short. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
