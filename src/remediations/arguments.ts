import { UsageError } from '../core/errors.js';

/** A flag that counts something: a whole number of at least 1, or a usage error naming the flag. */
export function positiveWhole(flag: string, value: unknown): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} ${String(value)} is not valid; expected a whole number ≥ 1`);
  return n;
}
