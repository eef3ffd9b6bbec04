import { randomUUID } from 'node:crypto';
import type { Context } from '../core/context.js';
import { callDeadline } from '../core/cancellation.js';
import { CancelledError, ExitCode, GuardError, UsageError, exitCodeFor } from '../core/errors.js';
import { operatorName } from '../core/operator.js';
import { AuditLog } from './audit.js';
import type { LockAttempt, Plan, PlanStep, Remediation, RemediationSession, StepOutcome, Verification } from './remediation.js';
import { checkPlanFile, planDifference, planFile, writePlanFile, type PlanFile } from './plan-file.js';
import { FIX_WHOLE_LINE, planText } from './render.js';
import { wrapText } from '../render/wrap.js';

/** How the operator asked for the run: the framework's own flags. */
export interface RunFlags {
  dryRun: boolean;
  yes: boolean;
  /** `--max N`: the explicit override of the safety cap. */
  max?: number;
  /** `--break-lock`: take over a lock left by this operator's own run that is no longer alive. */
  breakLock?: boolean;
  /** `--dry-run --save-plan FILE`: keep the reviewed plan there, valid for `validMs`, with the flags it was derived with. */
  savePlan?: { path: string; validMs: number; options: Record<string, unknown> };
  /** `--plan FILE`: the reviewed plan this run applies exactly, or refuses. */
  planFile?: { path: string; file: PlanFile };
  /** This remediation's command line as typed, without --dry-run and --yes: what the hints tell the operator to run. */
  commandLine?: string;
}

/** The cap that applies: `--max`, else `remediation.caps.<id>` in the config, else the remediation's default. */
export interface CapState {
  unit: string;
  limit: number;
  exceeded: boolean;
}

/** Each step with what happened to it. */
export interface StepResult {
  description: string;
  action: string;
  status: StepOutcome['status'];
  detail: string;
}

/** What `fix <id>` returns to its renderer: SPEC's `{ plan, applied, result }` plus what the exit code follows from. */
export interface FixReport {
  remediation: Remediation;
  target: string;
  plan: Plan;
  cap: CapState | null;
  dryRun: boolean;
  applied: boolean;
  /** Whether the plan was already shown on stderr at the confirmation prompt. */
  planShown: boolean;
  steps: StepResult[];
  /** The plan's steps that never ran (after a failure or Ctrl-C). */
  notRun: PlanStep[];
  verification: Verification | null;
  /** Where `--save-plan` kept the plan, and until when it can be applied. */
  savedPlan: { path: string; expiresAt: string } | null;
  /** Why nothing was applied, when nothing was. */
  reason: string | null;
  auditLog: string;
  exitCode: number;
}

/**
 * Runs a remediation under every guard of SPEC "Guards on every remediation" (see `remediation.ts`
 * for the order). Guards that refuse throw {@link GuardError} (exit 5) after auditing why; a "no" or
 * Ctrl-C at the prompt throws {@link CancelledError} (130); once steps have run, the report's exit code
 * says how far it got ({@link applyOutcome}); no terminal and no `--yes` is a usage error (2), decided
 * before anything is touched.
 */
export async function runRemediation(ctx: Context, remediation: Remediation, options: Record<string, unknown>, flags: RunFlags): Promise<FixReport> {
  const args = remediation.parseArgs(options, ctx);
  if (!flags.dryRun && !flags.yes && !ctx.io.stdinIsTTY) {
    throw new UsageError(
      `fix ${remediation.id} needs confirmation and there is no terminal to ask on`,
      `review the plan with --dry-run, then pass --yes to apply it non-interactively`,
    );
  }
  // The open incidents are read while the session connects, which is mostly waiting for the target.
  const incidentsRead = readIncidents(ctx);
  // Awaited once the session is open; a session that cannot open leaves it unread.
  incidentsRead.catch(() => undefined);
  // The session's port calls are each bounded by --timeout; waiting for a rollout is bounded by --rollout-timeout.
  const session = await remediation.open(perCallDeadline(ctx, ctx.config.timeout), args);
  try {
    const { incidents, incidentField, noteRemediation } = await incidentsRead;
    const audit = AuditLog.open(ctx, {
      run: randomUUID(),
      operator: operatorName(ctx.env),
      remediation: remediation.id,
      target: session.target,
      ...session.scope,
      ...incidentField(incidents),
      ...session.auditFields,
    });
    try {
      const report = await guarded(ctx, remediation, session, audit, flags);
      await noteRemediation(ctx, incidents, report);
      return report;
    } catch (error) {
      if (!(error instanceof GuardError || error instanceof CancelledError)) {
        audit.append('error', { error: (error as Error).message });
      }
      throw error;
    } finally {
      // The records noted last (a dry run's plan, the last step's outcome) are on disk before the run returns.
      audit.flush();
    }
  } finally {
    await session.close();
  }
}

/** The incidents open now, and what a run needs to put itself in their records and timelines. */
async function readIncidents(ctx: Context) {
  const [{ openIncidents, incidentField }, { noteRemediation }] = await Promise.all([import('../incident/journal.js'), import('../incident/timeline.js')]);
  return { incidents: await openIncidents(ctx), incidentField, noteRemediation };
}

async function guarded(ctx: Context, remediation: Remediation, session: RemediationSession, audit: AuditLog, flags: RunFlags): Promise<FixReport> {
  const saved = flags.planFile;
  if (saved) checkPlanFile(saved.path, saved.file, session.target, session.scope, ctx.clock.now());
  // Derived as of the saved plan's reference point (its "now"), so what merely aged since is no change.
  const plan = await session.plan(saved?.file.plan).catch((error: unknown) => {
    // A plan the remediation refuses to derive (a revert whose object changed since) is a refusal on the record too.
    if (error instanceof GuardError) audit.append('refused', { error: error.message });
    throw error;
  });
  const cap = capState(ctx, remediation, plan, flags.max);
  // Noted: on disk with the first step's record, or when the run ends without one.
  audit.note('plan', { dryRun: flags.dryRun, summary: plan.summary, size: plan.size, cap, steps: plan.steps, ...(saved ? { planFile: saved.path } : {}) });
  if (saved && JSON.stringify(plan.identity) !== JSON.stringify(saved.file.plan.identity)) {
    audit.append('plan-changed', { planFile: saved.path, shown: saved.file.plan.identity, now: plan.identity });
    const difference = planDifference(saved.file.plan, plan);
    throw new GuardError(
      `the plan derived now differs from the one reviewed in ${saved.path} (saved ${saved.file.createdAt} by ${saved.file.operator}); nothing was applied\n` +
        (difference.length ? difference.map((line) => `    ${line}`).join('\n') : '    the same steps, on objects that were replaced or changed since'),
      `review the new plan: aegis-ir fix ${remediation.id} --dry-run --save-plan ${saved.path}`,
    );
  }
  const report: FixReport = {
    remediation,
    target: session.target,
    plan,
    cap,
    dryRun: flags.dryRun,
    applied: false,
    planShown: false,
    steps: [],
    notRun: [],
    verification: null,
    savedPlan: null,
    reason: null,
    auditLog: audit.path,
    exitCode: ExitCode.ok,
  };
  // Before the lock: a right to take the lock that is missing is a refusal found here (exit 5), not a failure to take it.
  const missing = await session.preflight(plan);
  if (missing.length) {
    audit.append('preflight-failed', { missing });
    // A dry run still shows the plan, with why applying it would be refused; the exit code is the same.
    if (flags.dryRun) {
      ctx.io.stderr.write(`aegis-ir: applying this plan would be refused: preflight: ${missing.join('; ')}\n`);
      return { ...report, reason: `nothing was changed; applying would be refused: ${missing.join('; ')}`, exitCode: ExitCode.guard };
    }
    throw new GuardError(`preflight: ${missing.join('; ')}`, 'run as an operator with these rights; nothing was changed');
  }
  if (flags.dryRun) return { ...report, reason: 'nothing was changed', savedPlan: flags.savePlan ? savePlan(ctx, remediation, session, plan, flags.savePlan, audit) : null };
  if (plan.steps.length === 0) return { ...report, reason: 'nothing to do' };
  const lock = await takeLock(ctx, remediation, session, audit, flags);
  // Renewed from now on, while the operator reads the plan and while the steps run.
  const keepAlive = keepRenewing(ctx, lock, audit);
  try {
    return await locked(ctx, remediation, session, audit, flags, report, lock, keepAlive);
  } finally {
    keepAlive.stop();
    await releaseLock(ctx, session, audit, lock.release);
  }
}

async function locked(
  ctx: Context,
  remediation: Remediation,
  session: RemediationSession,
  audit: AuditLog,
  flags: RunFlags,
  report: FixReport,
  lock: HeldLock,
  keepAlive: KeepAlive,
): Promise<FixReport> {
  const { plan, cap } = report;
  if (cap?.exceeded) {
    audit.append('cap-exceeded', { size: plan.size, limit: cap.limit });
    throw new GuardError(
      `the plan would affect ${plan.size} ${cap.unit}, more than the safety cap of ${cap.limit}`,
      `review it with --dry-run; to go ahead anyway pass --max ${plan.size}`,
    );
  }
  const planShown = await confirm(ctx, remediation, session, plan, audit, flags);
  // A target that is gone now (a UsageError when planning afresh) is a changed plan too. After Ctrl-C at
  // the prompt nothing is read again: the loop below applies nothing and says it was cancelled.
  const again = ctx.signal.aborted ? plan : await session.plan(plan).catch((error: unknown) => {
    if (!(error instanceof UsageError)) throw error;
    return { summary: error.message, identity: null };
  });
  if (JSON.stringify(again.identity) !== JSON.stringify(plan.identity)) {
    audit.append('plan-changed', { shown: plan.identity, now: again.identity });
    throw new GuardError(
      `the plan changed since it was shown (${again.summary}); nothing was applied`,
      `review the new plan: ${flags.commandLine ?? `aegis-ir fix ${remediation.id}`} --dry-run`,
    );
  }
  // A lock that expired while the operator read the plan may be someone else's now.
  const holder = lock.renew && !ctx.signal.aborted ? await lock.renew() : null;
  if (holder) {
    audit.append('lock-lost', { holder });
    throw new GuardError(
      `the lock on ${session.target} expired while the plan was shown and is now held by ${holder}; nothing was applied`,
      'ask them, then run the fix again',
    );
  }
  const steps: StepResult[] = [];
  let failure: number | null = null;
  for (const step of plan.steps) {
    // Ctrl-C (or SIGTERM) stops the run before the next step; a step already running finishes.
    if (ctx.signal.aborted) break;
    // A lock lost while a step ran (a renewal refused) is no longer ours to act under.
    if (keepAlive.lostTo()) break;
    // Durable before the step runs, and with it every record before it: the plan, the confirmation, the last outcome.
    audit.append('step', { description: step.description, action: step.action });
    const outcome = await session.applyStep(step).catch((error: unknown): StepOutcome => {
      failure = exitCodeFor(error);
      return { status: 'failed', detail: (error as Error).message };
    });
    // On disk with the next step's record (one fsync per step), or with the verification's.
    audit.note('outcome', { description: step.description, ...outcome });
    steps.push({ description: step.description, action: step.action, ...outcome });
    if (outcome.status === 'failed') break;
  }
  const lostTo = keepAlive.lostTo();
  const cancelled = ctx.signal.aborted && steps.length < plan.steps.length;
  const notRun = plan.steps.slice(steps.length).map((s) => ({ description: s.description, action: s.action }));
  if (cancelled) audit.append('cancelled', { stepsRun: steps.length, of: plan.steps.length });
  // What was applied is reported even when the check cannot run again; the exit code stays the error's.
  let verification: Verification;
  let verifyFailure: number | null = null;
  try {
    verification = await session.verify();
  } catch (error) {
    verifyFailure = exitCodeFor(error);
    verification = { summary: `could not verify: ${(error as Error).message}`, findings: [], details: {} };
  }
  audit.append('verify', { summary: verification.summary, findings: verification.findings.map((f) => `${f.code} ${f.summary}`), passed: verificationPassed(verification, verifyFailure) });
  const exitCode = applyOutcome({ planned: plan.steps.length, steps, cancelled, failure, verifyFailure });
  return {
    ...report,
    applied: steps.some((s) => s.status === 'done'),
    planShown,
    steps,
    notRun,
    verification,
    reason: stoppedReason(steps, plan.steps.length, cancelled, lostTo),
    exitCode,
  };
}

/**
 * Whether the check run again after apply found the fix took: it ran whole, and nothing it found implies a
 * severity. The first passed verification of an incident is when it was mitigated.
 */
export function verificationPassed(verification: Verification, verifyFailure: number | null): boolean {
  return verifyFailure === null && !verification.details.errors && verification.findings.every((f) => f.severity === null);
}

/** What happened to the steps of a run that got past every guard, for {@link applyOutcome}. */
export interface ApplyRun {
  planned: number;
  steps: readonly Pick<StepResult, 'status'>[];
  /** Stopped by Ctrl-C, SIGTERM or SIGHUP before every step ran. */
  cancelled: boolean;
  /** The exit code of the error a step threw, if one did. */
  failure: number | null;
  /** The exit code of the error the verification threw, if it did. */
  verifyFailure: number | null;
}

/**
 * The exit code of a run whose steps started (SPEC "Exit codes"): every step done → 0, or the
 * verification's error; some done and then stopped (a step failed or was skipped, Ctrl-C) → 6,
 * partially applied; none done: cancelled → 130, every step skipped because its target changed → 5,
 * the target unreachable → 4, a step that failed in the middle of running → 6.
 */
export function applyOutcome(run: ApplyRun): number {
  const done = run.steps.filter((s) => s.status === 'done').length;
  if (done === run.planned) return run.verifyFailure ?? ExitCode.ok;
  if (done > 0) return ExitCode.partial;
  const failed = run.steps.some((s) => s.status === 'failed');
  // Nothing done and nothing failed: stopped before the first step (Ctrl-C), or every target changed or the lock was lost.
  if (!failed) return run.cancelled ? ExitCode.cancelled : ExitCode.guard;
  return run.failure === ExitCode.unreachable ? ExitCode.unreachable : ExitCode.partial;
}

function stoppedReason(steps: readonly StepResult[], planned: number, cancelled: boolean, lostTo: string | null): string | null {
  const done = steps.filter((s) => s.status === 'done').length;
  if (done === planned) return null;
  const why = cancelled
    ? 'cancelled'
    : steps.some((s) => s.status === 'failed')
      ? 'a step failed'
      : lostTo && steps.length < planned
        ? `the lock was taken over by ${lostTo}`
        : 'the target changed since the plan';
  return `${why}: ${done} of ${planned} step(s) applied${done ? ', the rest not' : ''}`;
}

/** Writes the reviewed plan for `--plan FILE` to apply later, and audits where it went. */
function savePlan(
  ctx: Context,
  remediation: Remediation,
  session: RemediationSession,
  plan: Plan,
  save: NonNullable<RunFlags['savePlan']>,
  audit: AuditLog,
): { path: string; expiresAt: string } {
  const fields = { remediation: remediation.id, target: session.target, scope: session.scope, operator: operatorName(ctx.env), options: save.options };
  const file = planFile(fields, plan, ctx.clock.now(), save.validMs);
  writePlanFile(save.path, file, (text) => ctx.redact(text));
  audit.append('plan-saved', { planFile: save.path, expiresAt: file.expiresAt });
  return { path: save.path, expiresAt: file.expiresAt };
}

/**
 * Takes the target's lock, or refuses (exit 5) naming who holds it, since when and until when. A lock
 * left by the operator's own run that is no longer alive is taken with `--break-lock`, after a typed
 * confirmation on a terminal (or `--yes`), and audited; anyone else's is never broken.
 */
async function takeLock(ctx: Context, remediation: Remediation, session: RemediationSession, audit: AuditLog, flags: RunFlags): Promise<HeldLock> {
  const lock = await session.lock();
  if (lock.acquired) return lock;
  audit.append('lock-held', { holder: lock.holder });
  if (!lock.stale) {
    throw new GuardError(
      `another operator is already remediating ${session.target}: lock held by ${lock.holder}`,
      flags.breakLock
        ? '--break-lock takes only a lock left by your own run that is no longer alive; wait for them to finish, or ask them; nothing was changed'
        : 'wait for them to finish, or ask them; nothing was changed',
    );
  }
  if (!flags.breakLock) {
    throw new GuardError(
      `the lock on ${session.target} is held by ${lock.holder}, but ${lock.stale.reason}`,
      `take it over: aegis-ir fix ${remediation.id} --break-lock (same flags); nothing was changed`,
    );
  }
  if (!flags.yes) {
    const typed = await ctx.prompter.input(`The lock on ${session.target} is held by ${lock.holder}; ${lock.stale.reason}. Type "break" to take it over:`);
    if (typed.trim() !== 'break') {
      audit.append('declined', { at: 'break-lock' });
      throw new CancelledError();
    }
  }
  audit.append('lock-broken', { holder: lock.holder, reason: lock.stale.reason, by: flags.yes ? '--yes' : 'prompt' });
  const taken = await lock.stale.take();
  if (!taken.acquired) {
    audit.append('lock-held', { holder: taken.holder });
    throw new GuardError(`the lock on ${session.target} was taken by ${taken.holder} while it was being broken; nothing was changed`, 'ask them, then run the fix again');
  }
  return taken;
}

/** A lock this run holds. */
type HeldLock = Extract<LockAttempt, { acquired: true }>;

/**
 * Keeps an expiring lock (a Lease) alive while the plan is shown and the steps run, a rollout wait
 * included, which can outlast it. A renewal that finds the lock taken over stops the run before its next step; one that cannot reach
 * the target is retried at the next interval (the lock is still valid until it expires).
 */
interface KeepAlive {
  /** Who took the lock over, once a renewal found it someone else's. */
  lostTo(): string | null;
  stop(): void;
}

function keepRenewing(ctx: Context, lock: HeldLock, audit: AuditLog): KeepAlive {
  let holder: string | null = null;
  const { renew, renewEveryMs } = lock;
  if (!renew || !renewEveryMs) return { lostTo: () => null, stop: () => undefined };
  const timer = setInterval(() => {
    renew().then(
      (now) => {
        if (now && !holder) {
          holder = now;
          audit.append('lock-lost', { holder: now });
          ctx.logger.warn(`the lock was taken over by ${now}; stopping before the next step`);
        }
      },
      (error: unknown) => ctx.logger.debug(`could not renew the lock: ${(error as Error).message}`),
    );
  }, renewEveryMs);
  timer.unref();
  return { lostTo: () => holder, stop: () => clearInterval(timer) };
}

/**
 * The context a remediation's session runs with: each read of `signal` is a fresh signal that aborts on
 * Ctrl-C, SIGTERM or SIGHUP, or `timeoutMs` after the read. A port call takes the signal as it starts, so
 * every call is bounded by `--timeout` on its own, however long the run (a rollout wait) goes on.
 */
export function perCallDeadline(ctx: Context, timeoutMs: number): Context {
  const run = ctx.signal;
  return Object.defineProperty({ ...ctx }, 'signal', {
    enumerable: true,
    get: () => callDeadline(run, timeoutMs),
  });
}

/**
 * Gives the target's lock back. A failure must not hide the run's result or error: the lock ends by
 * itself (an advisory lock with the session, a Lease when it expires), so it is a warning.
 */
async function releaseLock(ctx: Context, session: RemediationSession, audit: AuditLog, release: () => Promise<void>): Promise<void> {
  try {
    await release();
  } catch (error) {
    audit.append('lock-release-failed', { error: (error as Error).message });
    ctx.logger.warn(`could not release the lock on ${session.target}: ${(error as Error).message}`);
  }
}

/** Asks the operator, or takes `--yes`; returns whether the plan was shown at the prompt. */
async function confirm(
  ctx: Context,
  remediation: Remediation,
  session: RemediationSession,
  plan: Plan,
  audit: AuditLog,
  flags: RunFlags,
): Promise<boolean> {
  if (flags.yes) {
    // Said out loud: in a production namespace --yes also stands for typing its name.
    if (plan.confirmByTyping) ctx.io.stderr.write(`--yes: not asking to type "${plan.confirmByTyping}" to confirm (${session.target} is production)\n`);
    audit.note('confirmed', { by: '--yes' });
    return false;
  }
  ctx.io.stderr.write(wrapText(planText(remediation, session.target, plan, null, ctx.io.color), ctx.io.width ?? 80, FIX_WHOLE_LINE));
  // A long plan scrolls away: the question restates what, how much and the cap.
  const cap = capState(ctx, remediation, plan, flags.max);
  const restated = `${plan.summary} (${cap ? `${plan.size} of at most ${cap.limit} ${cap.unit}` : `${plan.steps.length} step(s)`})`;
  const asked = plan.confirmByTyping
    ? ctx.prompter
        .input(`${session.target} is production. ${restated}. Type "${plan.confirmByTyping}" to apply:`)
        .then((typed) => typed.trim() === plan.confirmByTyping)
    : ctx.prompter.confirm(`Apply to ${session.target}: ${restated}?`);
  const answer = await asked.catch((error: unknown) => {
    if (error instanceof CancelledError) audit.append('cancelled', { at: 'confirmation' });
    throw error;
  });
  if (!answer) {
    audit.append('declined', {});
    throw new CancelledError();
  }
  audit.note('confirmed', { by: 'prompt' });
  return true;
}

function capState(ctx: Context, remediation: Remediation, plan: Plan, max: number | undefined): CapState | null {
  if (!remediation.cap) return null;
  const limit = max ?? ctx.config.remediation.caps[remediation.id] ?? remediation.cap.default;
  return { unit: remediation.cap.unit, limit, exceeded: plan.size > limit };
}
