import { describe, expect, it } from 'vitest';
import { SkipCheck, defineCheck, type Check } from '../../src/checks/check.js';
import { runChecks } from '../../src/checks/runner.js';
import { CancelledError, DeadlineError, UnreachableError, UsageError } from '../../src/core/errors.js';
import { makeFinding } from '../../src/core/findings.js';
import { KUBERNETES_FINDINGS } from '../../src/checks/kubernetes/findings.js';
import { testContext } from '../helpers/context.js';

function check(id: string, collect: () => Promise<unknown>, findings = 0): Check {
  return defineCheck({
    id,
    title: id,
    target: 'cluster',
    collect,
    evaluate: () =>
      Array.from({ length: findings }, () =>
        makeFinding(KUBERNETES_FINDINGS.errorLogLines, { check: id, params: { pod: 'p', count: 1, read: 1, sample: 'ERROR x' } }),
      ),
  });
}

const options = { checkTimeoutMs: 2000, timeoutMs: 5000 };

describe('runChecks', () => {
  it('runs checks concurrently: each waits until all have started', async () => {
    // A latch only opens when every check is in flight at once; run one after another, each would
    // hit its deadline instead.
    const n = 5;
    let started = 0;
    let open!: () => void;
    const allStarted = new Promise<void>((resolve) => (open = resolve));
    const checks = Array.from({ length: n }, (_, i) =>
      check(`c${i}`, async () => {
        started += 1;
        if (started === n) open();
        await allStarted;
        return {};
      }),
    );
    const outcomes = await runChecks(testContext(), checks, { ...options, checkTimeoutMs: 1000 });
    expect(outcomes.map((o) => o.status)).toEqual(Array(n).fill('ok'));
  });

  it('reports a hung check as errored at its deadline without stopping the others', async () => {
    const outcomes = await runChecks(
      testContext(),
      [check('hangs', () => new Promise(() => undefined)), check('fine', async () => ({}), 1)],
      { checkTimeoutMs: 100, timeoutMs: 5000 },
    );
    expect(outcomes[0]).toMatchObject({ id: 'hangs', status: 'errored', error: 'timed out after 100ms while waiting for the cluster', unreachable: true });
    expect(outcomes[1]).toMatchObject({ id: 'fine', status: 'findings' });
    expect(outcomes[1]?.findings).toHaveLength(1);
  });

  it('keeps a failing check from stopping the others and says why it failed', async () => {
    const outcomes = await runChecks(
      testContext(),
      [
        check('down', () => Promise.reject(new UnreachableError('cluster', 'cannot reach the Kubernetes API', 'kubectl cluster-info'))),
        check('bug', () => Promise.reject(new Error('boom'))),
        check('skip', () => Promise.reject(new SkipCheck('no metrics API'))),
        check('ok', async () => ({})),
      ],
      options,
    );
    expect(outcomes.map((o) => [o.id, o.status, o.unreachable])).toEqual([
      ['down', 'errored', true],
      ['bug', 'errored', false],
      ['skip', 'skipped', false],
      ['ok', 'ok', false],
    ]);
    expect(outcomes[0]?.hint).toBe('kubectl cluster-info');
    expect(outcomes[2]?.reason).toBe('no metrics API');
  });

  it('lets a usage error end the run: the operator must fix the configuration', async () => {
    await expect(
      runChecks(testContext(), [check('conf', () => Promise.reject(new UsageError('no kubeconfig found')))], options),
    ).rejects.toThrow('no kubeconfig found');
  });

  it('starts no further check once the run is cancelled', async () => {
    const controller = new AbortController();
    let laterStarted = false;
    const run = runChecks(
      testContext({ signal: controller.signal }),
      [
        check('cancelled-in-flight', () => {
          controller.abort();
          return new Promise(() => undefined);
        }),
        check('later', async () => {
          laterStarted = true;
          return {};
        }),
      ],
      options,
    );
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(laterStarted).toBe(false);
  });

  it('bounds the whole run by the global timeout', async () => {
    const outcomes = await runChecks(
      testContext(),
      [check('slow', () => new Promise(() => undefined))],
      { checkTimeoutMs: 10_000, timeoutMs: 50 },
    );
    expect(outcomes[0]?.error).toBe("the run's 50ms deadline (--timeout) passed while waiting for the cluster");
  });

  it("hands each check a signal that aborts at its deadline, so the check's own I/O stops", async () => {
    let seen: AbortSignal | undefined;
    const stopped = new Promise<unknown>((resolve) => {
      const listening = defineCheck({
        id: 'listens',
        title: 'listens',
        target: 'database',
        collect: (ctx) => {
          seen = ctx.signal;
          ctx.signal.addEventListener('abort', () => resolve(ctx.signal.reason));
          return new Promise(() => undefined);
        },
        evaluate: () => [],
      });
      void runChecks(testContext(), [listening], { checkTimeoutMs: 80, timeoutMs: 5000 });
    });
    const reason = await stopped;
    expect(reason).toBeInstanceOf(DeadlineError);
    expect((reason as Error).message).toBe('timed out after 80ms while waiting for the database');
    expect(seen?.aborted).toBe(true);
  });

  it("aborts every check's signal on Ctrl-C, with cancellation as the reason", async () => {
    const controller = new AbortController();
    let reason: unknown;
    const run = runChecks(
      testContext({ signal: controller.signal }),
      [
        check('in-flight', () => new Promise(() => undefined)),
        defineCheck({
          id: 'listens',
          title: 'listens',
          target: 'cluster',
          collect: (ctx) => {
            ctx.signal.addEventListener('abort', () => (reason = ctx.signal.reason));
            setTimeout(() => controller.abort(), 10);
            return new Promise(() => undefined);
          },
          evaluate: () => [],
        }),
      ],
      options,
    );
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(reason).toBeInstanceOf(DOMException);
  });
});
