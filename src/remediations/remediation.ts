import type { Option } from 'commander';
import type { Check } from '../checks/check.js';
import type { Printable } from '../render/output.js';
import type { Context } from '../core/context.js';
import type { Finding } from '../core/findings.js';
import type { Replaced } from './replaced.js';

/**
 * The guarded-remediation contract (SPEC "Guards on every remediation"). A remediation only knows its
 * own system; the framework in `engine.ts` enforces the guards for all of them, in this order:
 *
 * 1. `open` (connect) → `plan`;
 * 2. `preflight(plan)`: the operator's rights (the lock's included), before any lock or prompt;
 * 3. `--dry-run` stops here, having printed the plan — the plan *is* the dry run;
 * 4. `lock` (one operator per target), then the safety cap on `plan.size` (`--max` overrides);
 * 5. confirmation (`--yes`, or a TTY prompt showing the plan; typing the name of a production target);
 * 6. re-validation: `plan(shown)` is derived again and its `identity` must equal the shown one;
 * 7. `applyStep` for each step, each audited and fsynced before it runs; Ctrl-C stops before the next one;
 *    how far it got decides the exit code (all done 0, some done 6 "partially applied", none 130/5/4);
 * 8. `verify`: the relevant check again, shown with the result.
 */

/** How much damage a mistaken run could do; shown by `fix --list` and in every plan. */
export type Risk = 'low' | 'medium' | 'high';

/** One action of a plan: printed by `--dry-run`, audited, then applied in order. */
export interface PlanStep {
  /** For people: "terminate pid 4242 (app/api from 10.0.0.7, idle 14m)". */
  description: string;
  /** Exactly what runs: SQL with its parameters, or a Kubernetes patch as a diff. */
  action: string;
}

/** A table of the plan's targets, shown as columns in text and as objects in JSON. */
export interface PlanTable {
  columns: string[];
  rows: Array<Record<string, string | number | null>>;
}

/** What a remediation would do, derived from the live system. */
export interface Plan<S extends PlanStep = PlanStep> {
  /** One line: "terminate 12 idle sessions older than 10m on app@db:5432/app". */
  summary: string;
  steps: S[];
  table?: PlanTable;
  /**
   * What re-validation compares: the plan derived again at apply must have an equal identity (compared
   * as JSON), or nothing is applied. Holds what makes a target the same target (pid and start time, an
   * object's uid and the spec the plan rests on), not what merely ages or churns (durations, status).
   */
  identity: unknown;
  /** The quantity the safety cap limits, e.g. sessions to terminate or pods to restart. */
  size: number;
  /** When set, a TTY confirmation asks the operator to type this (a production namespace's name). */
  confirmByTyping?: string;
  /** Things the operator should know before confirming. */
  notes: string[];
}

export type StepStatus = 'done' | 'skipped' | 'failed';

/**
 * What happened to one step. `skipped` means the target changed between re-validation and the step
 * (nothing was done to it); `failed` stops the remaining steps. A step may also throw: the engine
 * records it as failed, with the error's exit code (an unreachable target is 4 when nothing was done).
 */
export interface StepOutcome {
  status: StepStatus;
  detail: string;
  /** What an applied Kubernetes write replaced (audited with the outcome, for `fix revert`). */
  replaced?: Replaced;
}

/** The relevant check after apply: its findings and the numbers that show whether the fix took. */
export interface Verification {
  summary: string;
  findings: Finding[];
  details: Record<string, unknown>;
}

/** The result of trying to take a target's lock; `holder` names who has it (operator, since when). */
export type LockAttempt =
  | {
      acquired: true;
      release(): Promise<void>;
      /**
       * Extends a lock that can expire (a Lease) just before anything is applied: null while it is still this
       * run's, else who holds it now. Locks that last as long as their session (an advisory lock) have none.
       */
      renew?(): Promise<string | null>;
      /** How often to renew it while the steps run (a third of its lifetime), when it can expire. */
      renewEveryMs?: number;
    }
  | {
      acquired: false;
      holder: string;
      /**
       * Set when the lock is left by this operator's own run that is no longer alive (killed, its terminal
       * closed): `take` removes it and locks for this run (`--break-lock`, after confirmation).
       */
      stale?: { reason: string; take(): Promise<LockAttempt> };
    };

/**
 * A remediation bound to its target for one run: connections open, arguments parsed. Everything it
 * reads or changes goes through these methods, so the framework can order and guard them.
 */
export interface RemediationSession<S extends PlanStep = PlanStep> {
  /** What is changed and locked, for messages and the audit log: `postgres app@db:5432/app`, `configmap aegis/aegis-api-config`. */
  readonly target: string;
  /** The cluster and kubeconfig context of a Kubernetes target, named in every audit record and plan file. */
  readonly scope?: KubeScope;
  /** More fields every audit record of the run carries: a revert names the run it undoes (`reverts`). */
  auditFields?: Record<string, unknown>;
  /** Derives the plan. At re-validation it receives the plan that was shown, to derive against the same reference point (e.g. the same "now"). */
  plan(shown?: Plan<S>): Promise<Plan<S>>;
  /** The rights the plan needs that the operator lacks (Kubernetes SelfSubjectAccessReview, PostgreSQL role rights); empty when all are there. */
  preflight(plan: Plan<S>): Promise<string[]>;
  /** Takes the per-target lock (a Kubernetes Lease, `pg_try_advisory_lock`) or says who holds it. */
  lock(): Promise<LockAttempt>;
  applyStep(step: S): Promise<StepOutcome>;
  verify(): Promise<Verification>;
  close(): Promise<void>;
}

/** Which cluster a Kubernetes remediation acts on: the API server's URL and the kubeconfig context. */
export interface KubeScope {
  cluster: string;
  context: string | null;
}

/** The scope of a session on `kube`. */
export function kubeScope(kube: { server: string; context: string | null }): KubeScope {
  return { cluster: kube.server, context: kube.context };
}

/** A safety cap: the most `plan.size` may be without an explicit `--max`. */
export interface SafetyCap {
  /** What `size` counts, plural: "sessions", "pods". */
  unit: string;
  default: number;
}

/**
 * A guarded remediation, listed by `fix --list` and run by `fix <id>`. Register it in `registry.ts`.
 * `A` is its parsed arguments.
 */
export interface Remediation<A = unknown> {
  /** The `fix` subcommand: `db-connections`. */
  id: string;
  /** One line for `fix --list`. */
  summary: string;
  /** Paragraph for `fix <id> --help`: what it changes, what it never touches, why it is safe. */
  description: string;
  risk: Risk;
  /** Anchor in runbooks/incident-response.md of the remediation it implements. */
  anchor: string;
  /** Its own flags; the framework adds `--dry-run` and, with a cap, `--max`. */
  options: () => Option[];
  /**
   * Its positional operand (`fix revert [RUN-ID]`), handed to `parseArgs` as `options[operand.key]`; when it is not
   * given, `default` (the newest mitigation's run), so the command lines printed and plans saved name it.
   */
  operand?: { name: string; key: string; description: string; default?(ctx: Context): string | null };
  /**
   * Its own flags spelled like a global flag, by that spelling: after the remediation's name `--timeout` is
   * `fix ai-provider`'s own `--ai-timeout`, before it the run's deadline.
   */
  ownSpellings?: Record<string, string>;
  /** `fix <id> --list`: what it lists instead of planning (`fix revert --list`: the mitigations still in effect). */
  list?: { description: string; printable(ctx: Context): Printable };
  /** The checks that verify it after apply, and verify a revert of it. */
  checks?(ctx: Context): Promise<readonly Check[]>;
  examples: string[];
  cap?: SafetyCap;
  /** Validates the flags (UsageError on a bad value) into typed arguments. */
  parseArgs(options: Record<string, unknown>, ctx: Context): A;
  /** Connects to the target. Errors are the usual typed ones (unreachable → exit 4). */
  open(ctx: Context, args: A): Promise<RemediationSession>;
}

/** Type-erases a remediation so remediations with different arguments fit one registry. */
export function defineRemediation<A>(remediation: Remediation<A>): Remediation {
  return remediation as unknown as Remediation;
}
