import { parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';

/** A flag that counts something: a whole number of at least 1, or a usage error naming the flag. */
export function positiveWhole(flag: string, value: unknown): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} ${String(value)} is not valid; expected a whole number ≥ 1`);
  return n;
}

/** A duration flag (`90s`, `5m`) in milliseconds, `fallback` when it was not given; a usage error naming the flag. */
export function positiveDuration(flag: string, value: unknown, fallback: string): number {
  const text = value === undefined ? fallback : String(value);
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`${flag} ${text} is not valid; expected a duration such as 90s or 5m`);
  return ms;
}
