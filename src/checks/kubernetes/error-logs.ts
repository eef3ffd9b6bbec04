import { makeFinding, type Finding } from '../../core/findings.js';
import { mapLimited } from '../../core/concurrency.js';
import type { V1Pod } from '@kubernetes/client-node';
import type { Context } from '../../core/context.js';
import { defineCheck, type Check, type EvaluationEnv } from '../check.js';
import { KUBERNETES_FINDINGS as F } from './findings.js';
import { isPodReady } from './pod-health.js';
import { appContainerName, isFinished, readOfRun, readStartedAhead, runContext, workloadSnapshot, type WorkloadRead, type WorkloadSnapshot } from './snapshot.js';
import { deadlineSignal } from '../../core/cancellation.js';
import { DeadlineError } from '../../core/errors.js';
import type { KubePort } from '../../kube/port.js';
import { compareNames } from '../../kube/names.js';

/** No pod's log read is allowed to exceed this, whatever --tail asks. */
const LOG_BYTES_LIMIT = 512 * 1024;
/** Longest sample line kept in the evidence. */
const SAMPLE_CHARS = 240;
/** `grep -i error` of the runbook's triage step, plus FATAL which its diagnosis greps for. */
const ERROR_LINE = /\b(error|fatal)\b/i;

/** Error lines of one pod's recent log. */
export interface PodLogEvidence {
  pod: string;
  container: string | null;
  linesRead: number;
  errorLines: number;
  samples: string[];
  /** Timestamp of the first error line read, when the log carried one. */
  firstErrorAt: string | null;
  /** Lines from the previous (crashed) container instance, if it restarted. */
  previous: boolean;
}

/** How much of the workload's logs a run read: pods read of pods running, and whether the deadline cut it short. */
export interface LogCoverage {
  podsRead: number;
  podsTotal: number;
  /** The deadline passed before every chosen pod was read; what was read is kept. */
  partial: boolean;
  /** Pods whose log could not be read, and why. */
  unread: Array<{ pod: string; error: string }>;
}

export interface ErrorLogEvidence {
  tailLines: number;
  pods: PodLogEvidence[];
  coverage?: LogCoverage;
}

/**
 * Error logs (`kubectl logs deployment/aegis-api --tail=100 | grep -i error`): the last N lines of
 * the app container of the Deployment's own pods (up to `triage.logPods`: failing and recently
 * restarted pods first, then a spread of the others), and of the previous instance of a container
 * that restarted and runs again, read a few pods at a time and bounded in bytes; lines matching
 * ERROR or FATAL are counted per pod with a few samples. One pod's unreadable log is that pod's
 * evidence; what was read by the deadline is kept and marked partial.
 */
export const errorLogsCheck = defineCheck<ErrorLogEvidence>({
  id: 'error-logs',
  title: 'Error lines in recent logs',
  target: 'cluster',
  logTail: (config) => config.triage.logTailLines,
  async collect(ctx) {
    const { logTailLines, logSamples } = ctx.config.triage;
    const { reads: pods, coverage } = await readAppLogs(ctx, logTailLines, (r) => scanLog(r.text, { pod: r.pod, container: r.container, previous: r.previous, samples: logSamples }));
    return { tailLines: logTailLines, pods: pods.sort((a, b) => compareNames(a.pod, b.pod)), coverage };
  },
  evaluate: evaluateErrorLogs,
});

/** One log read: the app container of one pod, its current or its previous (crashed) instance. */
export interface LogRead {
  pod: string;
  container: string | null;
  previous: boolean;
  /** The lines, each prefixed with its RFC 3339 timestamp. */
  text: string;
}

/** Share of a check's deadline spent reading logs; the rest is kept to scan and report them. */
const READ_SHARE = 0.8;

/** One pod's log as a run read it, or why it could not. */
type PodLogRead = LogRead | { pod: string; error: string };

/** What a run reads of its pods' logs, to one tail; shared by the checks of the run. */
interface RunLogs {
  /** Each chosen read as it arrives (or fails); undefined when the deadline came first. */
  results: Array<Promise<PodLogRead | undefined>>;
  running: number;
  /** Whether every chosen pod was read (or failed) before the deadline. */
  finished: Promise<boolean>;
}

/** Each run's log reads, by the tail they were read to. */
const runLogs = new WeakMap<Context, Map<number, Promise<RunLogs>>>();
/** Log reads started by `readLogsAhead`, by the read of the workload they follow (and the run that takes it). */
const logsAhead = new WeakMap<WorkloadRead, { tail: number; logs: Promise<RunLogs> }>();

/** The longest tail among the checks of a run that read logs: each pod is read once, to it. */
function longestTail(checks: readonly Check[], config: Context['config'], tailLines = 0): number {
  return Math.max(tailLines, ...checks.map((c) => c.logTail?.(config) ?? 0));
}

/**
 * Starts reading each pod's log to `tail` lines (the longest tail the checks of the next run on `ctx` read), as
 * soon as the workload `readAhead(ctx)` started reading is in, before those checks are loaded: the cluster
 * answers while they load. The run of `ctx` takes the reads when its longest tail is `tail`; nothing else
 * changes (what is read, the deadline, what a failure says).
 */
export function readLogsAhead(ctx: Context, tail: number): void {
  const early = readStartedAhead(ctx);
  if (!early || logsAhead.has(early)) return;
  const logs = readRunLogs(ctx, tail, early.pending);
  // Until a check waits on it, a failure is nobody's to handle.
  logs.catch(() => undefined);
  logsAhead.set(early, { tail, logs });
}

/**
 * Reads the last `tailLines` of the app container of the workload's own running pods, a few pods
 * at a time, bounded in bytes, up to `triage.logPods` pods. A crash-looping container's current log
 * is its last (crashed) instance, the same one `--previous` returns: it is read once. A container
 * that restarted and runs again also has its previous instance read. Pods whose container has not
 * started yet are passed over (there is nothing to read), and finished pods (Evicted) are not read.
 * Reads still going when the check's deadline nears are abandoned and the result marked partial.
 * The checks of one run that read logs read each pod once, to the longest tail among them (see
 * `Check.logTail`), and each keeps its own last `tailLines` of it, which `scan` reads the moment it arrives
 * (while the others are on their way); the scans come back in the order the pods were chosen.
 */
export async function readAppLogs<T>(ctx: Context, tailLines: number, scan: (read: LogRead) => T): Promise<{ reads: T[]; coverage: LogCoverage }> {
  const { run, checks } = runContext(ctx);
  const longest = longestTail(checks, run.config, tailLines);
  const byTail = runLogs.get(run) ?? new Map<number, Promise<RunLogs>>();
  runLogs.set(run, byTail);
  const workload = readOfRun(run);
  const early = workload && logsAhead.get(workload);
  const shared = byTail.get(longest) ?? (early?.tail === longest ? early.logs : readRunLogs(run, longest, workloadSnapshot(run)));
  byTail.set(longest, shared);
  const { results, running, finished } = await shared;
  const kube = await ctx.kube();
  const done = await Promise.all(
    results.map(async (pending) => {
      const read = await pending;
      const own = read && 'text' in read ? await ownTail(kube, read, longest, tailLines, ctx.signal) : read;
      return own && 'text' in own ? { pod: own.pod, scanned: scan(own) } : own;
    }),
  );
  const reads = done.filter((r) => r !== undefined && 'scanned' in r);
  const unread = [...new Map(done.filter((r) => r !== undefined && 'error' in r).map((r) => [r.pod, { pod: r.pod, error: r.error }])).values()];
  const complete = await finished;
  // Every log unreadable is the check's failure, not an empty log.
  if (!reads.length && unread.length && complete) throw new Error(unread[0]?.error);
  return {
    reads: reads.map((r) => r.scanned),
    coverage: { podsRead: new Set(reads.map((r) => r.pod)).size, podsTotal: running, partial: !complete, unread },
  };
}

/**
 * The last `tailLines` of a log read to `readTo` lines. A read cut short by its byte limit holds the
 * oldest of those lines, not the newest, so such a pod is read again to the shorter tail.
 */
async function ownTail(kube: KubePort, read: LogRead, readTo: number, tailLines: number, signal: AbortSignal): Promise<PodLogRead> {
  if (tailLines >= readTo) return read;
  if (Buffer.byteLength(read.text) < LOG_BYTES_LIMIT) return { ...read, text: lastLines(read.text, tailLines) };
  try {
    return { ...read, text: await readPodLog(kube, read, tailLines, signal) };
  } catch (error) {
    return { pod: read.pod, error: (error as Error).message };
  }
}

/** The last `n` lines of `text` (lines end in a newline). */
export function lastLines(text: string, n: number): string {
  let start = text.endsWith('\n') ? text.length - 1 : text.length;
  for (let i = 0; i < n; i += 1) {
    start = text.lastIndexOf('\n', start - 1);
    if (start < 0) return text;
  }
  return text.slice(start + 1);
}

function readPodLog(kube: KubePort, target: Omit<LogRead, 'text'>, tailLines: number, signal: AbortSignal): Promise<string> {
  return kube.readPodLog(target.pod, { container: target.container ?? '', tailLines, limitBytes: LOG_BYTES_LIMIT, previous: target.previous, timestamps: true }, signal);
}

/** One run's read of its pods' logs, under the run's signal: what every check of the run that reads logs shares. */
async function readRunLogs(run: Context, tailLines: number, workload: Promise<WorkloadSnapshot>): Promise<RunLogs> {
  const started = Date.now();
  const [kube, snapshot] = await Promise.all([run.kube(), workload]);
  const running = snapshot.pods.filter((p) => !isFinished(p));
  const chosen = choosePods(running, run.config.triage.logPods);
  const targets = chosen.flatMap((pod) => {
    const name = pod.metadata?.name ?? '';
    const container = appContainerName(pod, run.config.app);
    const statuses = pod.status?.containerStatuses ?? [];
    const status = statuses.find((c) => c.name === container);
    const restarted = (status?.restartCount ?? 0) > 0;
    const isRunning = Boolean(status?.state?.running);
    // A container that never started (ContainerCreating, ImagePullBackOff, a pod not scheduled yet) has
    // no log: the API answers 400. A name no status carries is still asked for, so a wrong
    // app.container is reported rather than passed over.
    const notStarted = status ? !restarted && !isRunning && !status.state?.terminated : statuses.length === 0;
    if (notStarted) return [];
    const reads = [{ pod: name, container: container || null, previous: false }];
    if (restarted && isRunning) reads.push({ pod: name, container: container || null, previous: true });
    return reads;
  });
  const budget = Math.min(run.config.checkTimeout, run.config.timeout) * READ_SHARE - (Date.now() - started);
  // Reads still going at the deadline stop with it.
  const { signal, end } = deadlineSignal(run.signal, Math.max(0, budget), () => new DeadlineError('cluster', 'the deadline of the log reads passed'));
  const settle: Array<(read: PodLogRead | undefined) => void> = [];
  const results = targets.map(() => new Promise<PodLogRead | undefined>((resolve) => settle.push(resolve)));
  let stop = false;
  const reading = mapLimited(targets.map((t, i) => ({ ...t, i })), run.config.triage.logConcurrency, async ({ i, ...target }) => {
    if (stop) return;
    try {
      settle[i]?.({ ...target, text: await readPodLog(kube, target, tailLines, signal) });
    } catch (error) {
      settle[i]?.({ pod: target.pod, error: (error as Error).message });
    }
  });
  const deadline = new Promise<false>((resolve) => (signal.aborted ? resolve(false) : signal.addEventListener('abort', () => resolve(false), { once: true })));
  const finished = Promise.race([reading.then(() => true), deadline]).then((complete) => {
    stop = true;
    end();
    // The reads the deadline cut off, and any that ends after it (a settled read stays as it was).
    for (const cutOff of settle) cutOff(undefined);
    return complete;
  });
  return { results, running: running.length, finished };
}

/**
 * Up to `limit` pods whose logs tell the most: the failing and not-ready ones and those restarted
 * most recently first, then an even spread of the others (by name), so a large workload is sampled
 * across its nodes and revisions rather than by list order.
 */
export function choosePods(pods: V1Pod[], limit: number): V1Pod[] {
  const lastRestart = (p: V1Pod) =>
    Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => (c.lastState?.terminated?.finishedAt ? new Date(c.lastState.terminated.finishedAt).getTime() : 0)));
  const troubled = pods.filter((p) => !isPodReady(p) || lastRestart(p) > 0).sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)) || lastRestart(b) - lastRestart(a));
  const rest = pods.filter((p) => !troubled.includes(p)).sort((a, b) => compareNames(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  const chosen = troubled.slice(0, limit);
  const room = limit - chosen.length;
  if (room >= rest.length) return [...chosen, ...rest];
  for (let i = 0; i < room; i += 1) chosen.push(rest[Math.floor((i * rest.length) / room)] as V1Pod);
  return chosen;
}

/** Splits `2026-…Z message` into its timestamp (ISO 8601, or null when absent) and the message. */
export function splitTimestamp(raw: string): { at: string | null; line: string } {
  const space = raw.indexOf(' ');
  const stamp = space > 0 && /^\d{4}-\d\d-\d\dT/.test(raw) ? raw.slice(0, space) : null;
  if (!stamp) return { at: null, line: raw };
  return { at: Number.isNaN(Date.parse(stamp)) ? null : new Date(stamp).toISOString(), line: raw.slice(space + 1) };
}

/** Counts error lines in a log read with timestamps (`2026-…Z message`). Pure, so tests feed it text. */
export function scanLog(
  text: string,
  meta: { pod: string; container: string | null; previous: boolean; samples: number },
): PodLogEvidence {
  let linesRead = 0;
  let errorLines = 0;
  let firstErrorAt: string | null = null;
  const samples: string[] = [];
  for (const raw of text.split('\n')) {
    if (!raw) continue;
    linesRead += 1;
    // The timestamp prefix never matches, so only matching lines pay for parsing it.
    if (!ERROR_LINE.test(raw)) continue;
    const { at, line } = splitTimestamp(raw);
    if (!ERROR_LINE.test(line)) continue;
    errorLines += 1;
    firstErrorAt ??= at;
    samples.push(line.slice(0, SAMPLE_CHARS));
    if (samples.length > meta.samples) samples.shift();
  }
  return { pod: meta.pod, container: meta.container, linesRead, errorLines, samples, firstErrorAt, previous: meta.previous };
}

export function evaluateErrorLogs(evidence: ErrorLogEvidence, _env: EvaluationEnv): Finding[] {
  const byPod = new Map<string, PodLogEvidence[]>();
  for (const log of evidence.pods) byPod.set(log.pod, [...(byPod.get(log.pod) ?? []), log]);
  const findings: Finding[] = coverageFindings(evidence.coverage);
  for (const [pod, logs] of byPod) {
    const count = logs.reduce((n, l) => n + l.errorLines, 0);
    if (!count) continue;
    const read = logs.reduce((n, l) => n + l.linesRead, 0);
    const samples = logs.flatMap((l) => l.samples);
    const firsts = logs.map((l) => l.firstErrorAt).filter((t): t is string => Boolean(t)).sort();
    findings.push(
      makeFinding(F.errorLogLines, {
        check: 'error-logs',
        params: { pod, count, read, sample: telling(samples) },
        resource: `pod/${pod}`,
        evidence: { errorLines: count, linesRead: read, samples, previousInstance: logs.some((l) => l.previous && l.errorLines > 0) },
        next: ['aegis-ir diagnose api-errors'],
        since: firsts[0] ?? null,
      }),
    );
  }
  return findings;
}

/** The sample to quote: the latest ERROR or FATAL line, else the latest line that merely mentions an error. */
function telling(samples: string[]): string {
  return samples.findLast((line) => /^(ERROR|FATAL)\b/.test(line)) ?? samples[samples.length - 1] ?? '';
}

/** Says what was not read: pods whose log failed, and a sample or a deadline that left pods out. */
function coverageFindings(coverage: LogCoverage | undefined): Finding[] {
  if (!coverage) return [];
  const findings: Finding[] = [];
  const { podsRead, podsTotal, partial, unread } = coverage;
  if (unread.length) {
    findings.push(
      makeFinding(F.logsUnread, {
        check: 'error-logs',
        params: { pods: unread.length, of: podsTotal, detail: `${unread[0]?.pod}: ${unread[0]?.error}${unread.length > 1 ? ` (and ${unread.length - 1} more)` : ''}` },
        resource: unread.length === 1 ? `pod/${unread[0]?.pod}` : null,
        evidence: { unread },
      }),
    );
  }
  if (partial || podsRead + unread.length < podsTotal) {
    findings.push(
      makeFinding(F.logsSampled, {
        check: 'error-logs',
        params: { read: podsRead, total: podsTotal, why: partial ? 'the check\'s deadline came first (partial)' : 'triage.logPods caps them; failing and restarted pods first, then a spread' },
        evidence: { podsRead, podsTotal, partial },
      }),
    );
  }
  return findings;
}
