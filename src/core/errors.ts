/**
 * Typed errors the CLI maps to the exit codes of the product contract. Only `exitCodeFor` decides a
 * process's exit status, so every command reports failure by throwing one of these (or returning a code).
 */

/** Exit codes of SPEC "Exit codes". */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  severity: 3,
  unreachable: 4,
  guard: 5,
  cancelled: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

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
