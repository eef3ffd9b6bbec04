import type { Config } from '../core/config.js';
import type { Context } from '../core/context.js';
import type { Finding } from '../core/findings.js';

/** The system a check reads; an unreachable target makes the verdict incomplete (exit 4). */
export type Target = 'cluster' | 'database' | 'prometheus' | 'statuspage';

/** What a pure evaluation may depend on besides the evidence: the thresholds and "now". */
export interface EvaluationEnv {
  config: Config;
  now: Date;
}

/**
 * A diagnostic step of the runbook. `collect` does the I/O through the context and returns plain
 * evidence; `evaluate` is a pure function of that evidence, tested against fixture files.
 */
export interface Check<E = unknown> {
  /** Stable id shown in `checks[].id`, e.g. `pod-health`. */
  id: string;
  title: string;
  target: Target;
  /** This check's own deadline, when it waits on purpose longer than `checkTimeout` (a second profile after a while). */
  deadline?(config: Config): number;
  /**
   * How many lines of each app pod's log this check reads. The checks of one run read each pod's log
   * once, to the longest tail any of them reads, and each scans its own last lines of it.
   */
  logTail?(config: Config): number;
  collect(ctx: Context): Promise<E>;
  evaluate(evidence: E, env: EvaluationEnv): Finding[];
}

/** Thrown by `collect` when the check cannot apply here (no metrics API, target not configured). */
export class SkipCheck extends Error {
  override readonly name = 'SkipCheck';
}

/** Type-erases a check so checks with different evidence fit one list. */
export function defineCheck<E>(check: Check<E>): Check<unknown> {
  return check as Check<unknown>;
}
