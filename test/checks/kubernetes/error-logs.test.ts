import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it, vi } from 'vitest';
import { errorLogsCheck, lastLines, readAppLogs, readLogsAhead, type ErrorLogEvidence } from '../../../src/checks/kubernetes/error-logs.js';
import { readAhead } from '../../../src/checks/kubernetes/snapshot.js';
import { TRIAGE_CHECKS } from '../../../src/checks/triage-checks.js';
import { triageLogTail } from '../../../src/commands/triage.js';
import { providerLogsCheck } from '../../../src/checks/ai-provider/provider-logs.js';
import { runChecks, type CheckOutcome } from '../../../src/checks/runner.js';
import type { KubePort, LogOptions } from '../../../src/kube/port.js';
import { testConfig } from '../../helpers/config.js';
import { testContext } from '../../helpers/context.js';
import { workloadPort } from '../../helpers/workload.js';

function pod(name: string, status: Partial<V1ContainerStatus> | null): V1Pod {
  return {
    metadata: { name },
    spec: { containers: [{ name: 'aegis-api' }] },
    status: status ? { containerStatuses: [{ name: 'aegis-api', image: 'api', imageID: '', ready: false, restartCount: 0, ...status }] } : { phase: 'Pending' },
  };
}

/** A cluster whose API answers 400 for the log of a container that never started, as the kubelet does. */
function cluster(pods: V1Pod[]): KubePort {
  return workloadPort(pods, {
    readPodLog: async (name: string, options: LogOptions) => {
      const status = pods.find((p) => p.metadata?.name === name)?.status?.containerStatuses?.[0];
      const started = status && (status.restartCount > 0 || status.state?.running || status.state?.terminated);
      if (!started) throw new Error(`Kubernetes API logs pod/${name} failed with 400: container is waiting to start`);
      return `2026-11-26T11:59:00Z ${options.previous ? 'FATAL previous' : 'ERROR current'} of ${name}\n`;
    },
  });
}

describe('readAppLogs', () => {
  it('still asks for a container no status names, so a wrong app.container is reported', async () => {
    const misnamed = pod('misnamed', { state: { running: {} } });
    const kube = workloadPort([misnamed], {
      readPodLog: async (_pod: string, options: LogOptions) => {
        throw new Error(`Kubernetes API logs pod/misnamed failed with 400: container ${options.container} is not valid for pod misnamed`);
      },
    });
    const ctx = testContext({ kube: async () => kube, config: testConfig({ 'app.container': 'api' }) });
    await expect(readAppLogs(ctx, 100, (r) => r)).rejects.toThrow('container api is not valid for pod misnamed');
  });

  it("reads a crash loop's one instance once, a restarted running one twice, and passes over pods not started yet", async () => {
    const kube = cluster([
      pod('running', { state: { running: {} } }),
      pod('crash-looping', { restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }),
      pod('restarted', { restartCount: 1, state: { running: {} } }),
      pod('pulling', { state: { waiting: { reason: 'ImagePullBackOff' } } }),
      pod('unscheduled', null),
    ]);
    const { reads } = await readAppLogs(testContext({ kube: async () => kube }), 100, (r) => r);
    expect(reads.map((r) => [r.pod, r.previous]).sort()).toEqual([
      ['crash-looping', false],
      ['restarted', false],
      ['restarted', true],
      ['running', false],
    ]);
  });
});

/**
 * A pod log of 1,000 lines, the last one an ERROR, served as the API server does: the last `tailLines`
 * lines, then cut at `limitBytes`. Every read is recorded.
 */
function loggingCluster(pods: string[], lineBytes: number): { kube: KubePort; asked: Array<{ pod: string; tailLines: number }> } {
  const asked: Array<{ pod: string; tailLines: number }> = [];
  const lines = Array.from({ length: 1000 }, (_, i) => `2026-11-26T11:59:00Z ${i === 999 ? 'ERROR newest' : 'INFO'} line ${i} ${'x'.repeat(lineBytes)}\n`);
  const kube = workloadPort(
    pods.map((name) => pod(name, { ready: true, state: { running: {} } })),
    {
      readPodLog: async (name: string, options: LogOptions) => {
        asked.push({ pod: name, tailLines: options.tailLines });
        return Buffer.from(lines.slice(-options.tailLines).join('')).subarray(0, options.limitBytes).toString('utf8');
      },
    },
  );
  return { kube, asked };
}

describe('the log reads of one run', () => {
  const evidenceOf = (outcomes: CheckOutcome[], id: string) => outcomes.find((o) => o.id === id)?.evidence as Record<string, unknown>;

  it('read each pod once, to the longest tail, and each check scans its own last lines', async () => {
    const { kube, asked } = loggingCluster(['a', 'b', 'c'], 10);
    const outcomes = await runChecks(testContext({ kube: async () => kube }), [errorLogsCheck, providerLogsCheck], { checkTimeoutMs: 10_000, timeoutMs: 20_000 });
    expect(asked.sort((x, y) => x.pod.localeCompare(y.pod))).toEqual(['a', 'b', 'c'].map((p) => ({ pod: p, tailLines: 500 })));
    const errorLogs = evidenceOf(outcomes, 'error-logs') as unknown as ErrorLogEvidence;
    expect(errorLogs.pods.map((p) => [p.pod, p.linesRead, p.errorLines])).toEqual([['a', 100, 1], ['b', 100, 1], ['c', 100, 1]]);
    expect(evidenceOf(outcomes, 'ai-provider-logs').linesRead).toBe(1500);
  });

  it('read a log again to the shorter tail when the longer one was cut at its byte limit, so the newest lines are scanned', async () => {
    // 500 lines of 2 KB are cut at 512 KB: that read holds the oldest of them, not the ERROR at the end.
    const { kube, asked } = loggingCluster(['a'], 2048);
    const outcomes = await runChecks(testContext({ kube: async () => kube }), [errorLogsCheck, providerLogsCheck], { checkTimeoutMs: 10_000, timeoutMs: 20_000 });
    expect(asked.map((a) => a.tailLines).sort()).toEqual([100, 500]);
    const errorLogs = evidenceOf(outcomes, 'error-logs') as unknown as ErrorLogEvidence;
    expect(errorLogs.pods.map((p) => [p.linesRead, p.errorLines])).toEqual([[100, 1]]);
  });
});

describe('the scans of a run\'s log reads', () => {
  it('read each log the moment it arrives, while the others are still on their way', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const kube = workloadPort(['a', 'b'].map((name) => pod(name, { ready: true, state: { running: {} } })), {
      readPodLog: async (name: string) => {
        if (name === 'b') await held;
        return `2026-11-26T11:59:00Z ERROR in ${name}\n`;
      },
    });
    const scanned: string[] = [];
    const reading = readAppLogs(testContext({ kube: async () => kube }), 100, (r) => (scanned.push(r.pod), r.pod));
    await vi.waitFor(() => expect(scanned).toEqual(['a']));
    release();
    expect((await reading).reads).toEqual(['a', 'b']);
  });
});

describe('the log reads started ahead of a run', () => {
  const checks = [errorLogsCheck, providerLogsCheck];
  const run = (ctx: ReturnType<typeof testContext>) => runChecks(ctx, checks, { checkTimeoutMs: 10_000, timeoutMs: 20_000 });

  it('ask for every pod\'s log once the workload is in, before the checks run, and the run takes them', async () => {
    const { kube, asked } = loggingCluster(['a', 'b', 'c'], 10);
    const ctx = testContext({ kube: async () => kube });
    await readAhead(ctx);
    readLogsAhead(ctx, 500);
    await vi.waitFor(() => expect(asked).toHaveLength(3));
    const outcomes = await run(ctx);
    expect(asked).toHaveLength(3);
    expect(outcomes.map((o) => o.status)).toEqual(['findings', 'ok']);
    expect((outcomes[0]?.evidence as ErrorLogEvidence).pods.map((p) => [p.pod, p.linesRead, p.errorLines])).toEqual([['a', 100, 1], ['b', 100, 1], ['c', 100, 1]]);
    // The run after it (the verification after a fix) reads the logs afresh.
    await run(ctx);
    expect(asked).toHaveLength(6);
  });

  it('are read again when the run reads to another tail, so every check sees the lines it asks for', async () => {
    const { kube, asked } = loggingCluster(['a'], 10);
    const ctx = testContext({ kube: async () => kube });
    await readAhead(ctx);
    readLogsAhead(ctx, 200);
    const outcomes = await run(ctx);
    expect(asked.map((a) => a.tailLines).sort()).toEqual([200, 500]);
    expect(outcomes[1]?.evidence).toMatchObject({ linesRead: 500 });
  });

  it("are read, in triage, to the longest tail of triage's checks, whatever the configuration says", () => {
    for (const flags of [{}, { 'triage.logTailLines': 900 }, { 'aiProvider.logTailLines': 40 }, { 'triage.logTailLines': 1, 'aiProvider.logTailLines': 1 }]) {
      const config = testConfig(flags);
      expect(triageLogTail(config)).toBe(Math.max(...TRIAGE_CHECKS.map((c) => c.logTail?.(config) ?? 0)));
    }
  });
});

describe('lastLines', () => {
  it.each([
    ['a\nb\nc\n', 2, 'b\nc\n'],
    ['a\nb\nc\n', 3, 'a\nb\nc\n'],
    ['a\nb\nc\n', 5, 'a\nb\nc\n'],
    ['a\nb\nc', 1, 'c'],
    ['', 1, ''],
  ])('keeps the last lines of %j (%i)', (text, n, expected) => {
    expect(lastLines(text, n)).toBe(expected);
  });
});
