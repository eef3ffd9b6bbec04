import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { abortReason } from '../../src/core/cancellation.js';
import { CancelledError, DeadlineError, ExitCode, GuardError, UnreachableError, UsageError } from '../../src/core/errors.js';
import { applyOutcome, perCallDeadline, runRemediation, type ApplyRun, type RunFlags } from '../../src/remediations/engine.js';
import { defineRemediation, type Plan, type RemediationSession, type StepOutcome } from '../../src/remediations/remediation.js';
import { testConfig } from '../helpers/config.js';
import { testContext } from '../helpers/context.js';

/** Each fsync, in order among what a test records itself. */
const { happened } = vi.hoisted(() => ({ happened: [] as string[] }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    fsyncSync: (fd: number) => {
      fs.fsyncSync(fd);
      happened.push('fsync');
    },
  };
});

/** What the fake session did, in order, so a test can say what must not have happened. */
type Call = 'open' | 'lock' | 'release' | 'plan' | 'preflight' | 'apply' | 'verify' | 'close';

interface Fake {
  /** Plan identities, one per call to `plan` (the last repeats); an Error is thrown instead. */
  identities?: unknown[];
  missing?: string[];
  size?: number;
  verify?: () => Promise<never>;
  release?: () => Promise<never>;
  /** Who holds the lock when it is renewed before applying (null: still this run's). */
  renewedHolder?: string | null;
  /** What each step does, in order (default: one step, done); an Error is thrown by it. */
  outcomes?: Array<StepOutcome | Error>;
  /** Runs as step `i` is applied, e.g. to press Ctrl-C. */
  onApply?: (i: number) => unknown;
  /** Renewal of the lock while steps run: who holds it at each renewal (null: still this run's). */
  renewals?: { everyMs: number; holder: () => string | null };
}

function setup(fake: Fake = {}) {
  const calls: Call[] = [];
  const auditLog = join(mkdtempSync(join(tmpdir(), 'aegis-ir-engine-')), 'audit.jsonl');
  const identities = fake.identities ?? ['same'];
  let plans = 0;
  const session: RemediationSession = {
    target: 'thing/t',
    async plan(): Promise<Plan> {
      calls.push('plan');
      const identity = identities[Math.min(plans, identities.length - 1)];
      plans += 1;
      if (identity instanceof Error) throw identity;
      const steps = (fake.outcomes ?? [null]).map((_, i) => ({ description: `change t${i + 1}`, action: 'do it' }));
      return { summary: 'change t', steps, identity, size: fake.size ?? 1, notes: [] };
    },
    async preflight() {
      calls.push('preflight');
      return fake.missing ?? [];
    },
    async lock() {
      calls.push('lock');
      return {
        acquired: true as const,
        release: async () => {
          calls.push('release');
          await fake.release?.();
        },
        ...(fake.renewedHolder === undefined ? {} : { renew: async () => fake.renewedHolder ?? null }),
        ...(fake.renewals ? { renew: async () => fake.renewals?.holder() ?? null, renewEveryMs: fake.renewals.everyMs } : {}),
      };
    },
    async applyStep() {
      const i = calls.filter((c) => c === 'apply').length;
      calls.push('apply');
      await fake.onApply?.(i);
      const outcome = fake.outcomes?.[i] ?? { status: 'done' as const, detail: 'done' };
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
    async verify() {
      calls.push('verify');
      if (fake.verify) return fake.verify();
      return { summary: 'fine', findings: [], details: {} };
    },
    async close() {
      calls.push('close');
    },
  };
  const remediation = defineRemediation({
    id: 'fake',
    summary: 'a fake remediation',
    description: '',
    risk: 'low',
    anchor: 'x',
    options: () => [],
    examples: [],
    cap: { unit: 'things', default: 2 },
    parseArgs: () => ({}),
    async open() {
      calls.push('open');
      return session;
    },
  });
  const controller = new AbortController();
  const ctx = testContext({ config: testConfig({ 'audit.path': auditLog }), signal: controller.signal });
  const run = (flags: Partial<RunFlags>) => runRemediation(ctx, remediation, {}, { dryRun: false, yes: true, ...flags });
  const events = () => readFileSync(auditLog, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { event: string }).event);
  return { calls, ctx, run, events, interrupt: () => controller.abort() };
}

describe('runRemediation guards', () => {
  it('without a terminal and without --yes refuses before connecting to anything', async () => {
    const { calls, run } = setup();
    await expect(run({ yes: false })).rejects.toBeInstanceOf(UsageError);
    expect(calls).toEqual([]);
  });

  it('--dry-run plans and preflights, takes no lock and applies nothing', async () => {
    const { calls, run } = setup();
    const report = await run({ dryRun: true, yes: false });
    expect(report).toMatchObject({ applied: false, exitCode: ExitCode.ok, reason: 'nothing was changed' });
    expect(calls).toEqual(['open', 'plan', 'preflight', 'close']);
  });

  it('a failed preflight refuses before the lock and the prompt (a right to take the lock is one of them)', async () => {
    const { calls, ctx, run } = setup({ missing: ['not allowed to create leases.coordination.k8s.io in namespace aegis'] });
    ctx.io.stdinIsTTY = true;
    const refusal = run({ yes: false });
    await expect(refusal).rejects.toBeInstanceOf(GuardError);
    await expect(refusal).rejects.toThrow('preflight: not allowed to create leases');
    expect(calls).toEqual(['open', 'plan', 'preflight', 'close']);
  });

  it('--dry-run with a failed preflight still shows the plan, says why applying would be refused, and exits 5', async () => {
    const { calls, ctx, run } = setup({ missing: ['not allowed to patch deployments.apps/aegis-api in namespace aegis'] });
    const report = await run({ dryRun: true, yes: false });
    expect(report).toMatchObject({ applied: false, exitCode: ExitCode.guard });
    expect(report.reason).toBe('nothing was changed; applying would be refused: not allowed to patch deployments.apps/aegis-api in namespace aegis');
    expect(report.plan.summary).toBe('change t');
    expect(ctx.err.text()).toContain('applying this plan would be refused');
    expect(calls).not.toContain('apply');
  });

  it('a plan changed at re-validation is refused with nothing applied', async () => {
    const { calls, run, events } = setup({ identities: ['shown', 'changed'] });
    await expect(run({})).rejects.toThrow(/plan changed/);
    expect(calls).not.toContain('apply');
    expect(events()).toContain('plan-changed');
  });

  it('a target gone at re-validation is a changed plan: exit 5, nothing applied', async () => {
    const { calls, run, events } = setup({ identities: ['shown', new UsageError('configmap/x does not exist in namespace aegis')] });
    const refusal = run({});
    await expect(refusal).rejects.toBeInstanceOf(GuardError);
    await expect(refusal).rejects.toThrow('the plan changed since it was shown (configmap/x does not exist in namespace aegis)');
    expect(calls).not.toContain('apply');
    expect(events()).toContain('plan-changed');
  });

  it('a lock that expired at the prompt and was taken over refuses with exit 5, nothing applied', async () => {
    const { calls, run, events } = setup({ renewedHolder: 'bob@laptop' });
    const refusal = run({});
    await expect(refusal).rejects.toBeInstanceOf(GuardError);
    await expect(refusal).rejects.toThrow('the lock on thing/t expired while the plan was shown and is now held by bob@laptop');
    expect(calls).not.toContain('apply');
    expect(events()).toContain('lock-lost');
  });

  it('a lock renewed before applying lets the steps run', async () => {
    const { run } = setup({ renewedHolder: null });
    expect((await run({})).applied).toBe(true);
  });

  it('the safety cap refuses without --max and lets --max through', async () => {
    const over = setup({ size: 3 });
    await expect(over.run({})).rejects.toThrow(/more than the safety cap of 2/);
    expect(over.calls).not.toContain('apply');
    const allowed = setup({ size: 3 });
    expect((await allowed.run({ max: 3 })).applied).toBe(true);
  });

  it('"no" at the prompt cancels with nothing applied', async () => {
    const { calls, ctx, run } = setup();
    ctx.io.stdinIsTTY = true;
    ctx.prompter = { confirm: async () => false, input: () => Promise.reject(new Error('not asked')) };
    await expect(run({ yes: false })).rejects.toBeInstanceOf(CancelledError);
    expect(calls).not.toContain('apply');
  });

  it('a check that cannot run again still reports what was applied, with the error’s exit code', async () => {
    const { calls, run, events } = setup({ verify: () => Promise.reject(new UnreachableError('database', 'cannot reach the database')) });
    const report = await run({});
    expect(report).toMatchObject({ applied: true, exitCode: ExitCode.unreachable });
    expect(report.verification?.summary).toBe('could not verify: cannot reach the database');
    expect(calls).toEqual(['open', 'plan', 'preflight', 'lock', 'plan', 'apply', 'verify', 'release', 'close']);
    expect(events()).toContain('verify');
  });

  it('the audit log hides a secret even where JSON would escape it', async () => {
    const secret = 'pa"ss\\word-9';
    const { ctx, run } = setup({ release: () => Promise.reject(new Error(`lost connection for ${secret}`)) });
    ctx.redact = (text) => text.split(secret).join('***');
    await run({});
    const log = readFileSync(String(ctx.config.audit.path), 'utf8');
    expect(log).toContain('lost connection for ***');
    expect(log).not.toContain('pa\\"ss');
  });

  it('a lock that cannot be released is a warning, not the run’s result', async () => {
    const { ctx, run, events } = setup({ release: () => Promise.reject(new Error('lease gone')) });
    const report = await run({});
    expect(report).toMatchObject({ applied: true, exitCode: ExitCode.ok });
    expect(ctx.err.text()).toContain('could not release the lock on thing/t: lease gone');
    expect(events()).toContain('lock-release-failed');
  });
});

const done: StepOutcome = { status: 'done', detail: 'done' };
const skipped: StepOutcome = { status: 'skipped', detail: 'changed since the plan' };
const failed: StepOutcome = { status: 'failed', detail: 'could not' };

describe('exit codes of a run whose steps started', () => {
  it('a step failing after another was applied is 6 (partially applied), listing what ran and what did not', async () => {
    const { run, events } = setup({ outcomes: [done, failed, done] });
    const report = await run({});
    expect(report.exitCode).toBe(ExitCode.partial);
    expect(report.steps.map((s) => `${s.description} ${s.status}`)).toEqual(['change t1 done', 'change t2 failed']);
    expect(report.notRun.map((s) => s.description)).toEqual(['change t3']);
    expect(report.reason).toBe('a step failed: 1 of 3 step(s) applied, the rest not');
    expect(events()).toContain('verify');
  });

  it('a first step failing at runtime is 6, not 5: it ran and may have changed something', async () => {
    const report = await setup({ outcomes: [failed, done] }).run({});
    expect(report.exitCode).toBe(ExitCode.partial);
  });

  it('a target unreachable at the first step is 4, nothing applied', async () => {
    const report = await setup({ outcomes: [new UnreachableError('cluster', 'cannot reach the Kubernetes API'), done] }).run({});
    expect(report).toMatchObject({ exitCode: ExitCode.unreachable, applied: false });
    expect(report.steps[0]).toMatchObject({ status: 'failed', detail: 'cannot reach the Kubernetes API' });
  });

  it('Ctrl-C after a step ran is 6 and names the steps not run', async () => {
    const { run, interrupt, events } = setup({ outcomes: [done, done, done], onApply: (i) => i === 0 && interrupt() });
    const report = await run({});
    expect(report.exitCode).toBe(ExitCode.partial);
    expect(report.reason).toBe('cancelled: 1 of 3 step(s) applied, the rest not');
    expect(report.notRun).toHaveLength(2);
    expect(events()).toContain('cancelled');
  });

  it('Ctrl-C during the last step leaves the run complete: 0', async () => {
    const { run, interrupt } = setup({ outcomes: [done, done], onApply: (i) => i === 1 && interrupt() });
    expect((await run({})).exitCode).toBe(ExitCode.ok);
  });

  it.each<[string, ApplyRun, number]>([
    ['all done', { planned: 2, steps: [done, done], cancelled: false, failure: null, verifyFailure: null }, ExitCode.ok],
    ['all done, verify unreachable', { planned: 1, steps: [done], cancelled: false, failure: null, verifyFailure: 4 }, ExitCode.unreachable],
    ['some skipped, some done', { planned: 2, steps: [skipped, done], cancelled: false, failure: null, verifyFailure: null }, ExitCode.partial],
    ['every step skipped: the targets changed', { planned: 2, steps: [skipped, skipped], cancelled: false, failure: null, verifyFailure: null }, ExitCode.guard],
    ['cancelled before the first step', { planned: 2, steps: [], cancelled: true, failure: null, verifyFailure: null }, ExitCode.cancelled],
    ['failed, thrown as a guard refusal', { planned: 1, steps: [failed], cancelled: false, failure: 5, verifyFailure: null }, ExitCode.partial],
  ])('%s', (_name, outcome, code) => {
    expect(applyOutcome(outcome)).toBe(code);
  });
});

describe('deadlines and the lock while a remediation runs', () => {
  it('each port call gets its own --timeout, and Ctrl-C aborts every one in flight', async () => {
    const run = new AbortController();
    const ctx = perCallDeadline(testContext({ signal: run.signal }), 40);
    const first = ctx.signal;
    await new Promise<void>((resolve) => first.addEventListener('abort', () => resolve()));
    // The port that sees it names its target and the deadline.
    const reason = abortReason(first, 'cluster');
    expect(reason).toBeInstanceOf(DeadlineError);
    expect(reason.message).toBe('the cluster did not answer within 40ms (--timeout)');
    // A call started after the first timed out has a deadline of its own.
    const second = ctx.signal;
    expect(second.aborted).toBe(false);
    run.abort();
    expect(second.aborted).toBe(true);
    expect(ctx.signal.aborted).toBe(true);
  });

  it('renews the lock while a long step runs', async () => {
    let renewed = 0;
    const { run } = setup({
      renewals: { everyMs: 5, holder: () => ((renewed += 1), null) },
      onApply: () => until(() => renewed >= 3),
    });
    const report = await run({});
    expect(report.exitCode).toBe(ExitCode.ok);
    expect(renewed).toBeGreaterThanOrEqual(3);
  });

  it('a lock taken over while a step ran stops before the next step: 6, what ran and what did not', async () => {
    let renewed = 0;
    const { run, events } = setup({
      outcomes: [done, done],
      // The first renewal is the one just before applying; the takeover comes while step 1 runs.
      renewals: { everyMs: 5, holder: () => ((renewed += 1), renewed > 1 ? 'bob@desk' : null) },
      onApply: () => until(() => renewed >= 2),
    });
    const report = await run({});
    expect(report.exitCode).toBe(ExitCode.partial);
    expect(report.reason).toBe('the lock was taken over by bob@desk: 1 of 2 step(s) applied, the rest not');
    expect(events()).toContain('lock-lost');
  });
});

/** Resolves once `condition` holds, checking every few milliseconds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

describe('the audit log of a run', () => {
  it('is fsynced once before each step, with every record before it in the log, and once when the run ends', async () => {
    let log = (): string[] => [];
    const { run, events } = setup({ outcomes: [done, done, done], onApply: (i) => happened.push(`apply ${i + 1}: ${log().join(' ')}`) });
    log = events;
    happened.length = 0;
    await run({});
    expect(happened).toEqual([
      'fsync',
      'apply 1: plan confirmed step',
      'fsync',
      'apply 2: plan confirmed step outcome step',
      'fsync',
      'apply 3: plan confirmed step outcome step outcome step',
      'fsync',
    ]);
    expect(events()).toEqual(['plan', 'confirmed', 'step', 'outcome', 'step', 'outcome', 'step', 'outcome', 'verify']);
  });

  it('of a dry run has its plan on disk when the run returns', async () => {
    const { run, events } = setup();
    happened.length = 0;
    await run({ dryRun: true, yes: false });
    expect(happened).toEqual(['fsync']);
    expect(events()).toEqual(['plan']);
  });
});
