import { makeFinding, type Finding } from '../../core/findings.js';
import { mapLimited } from '../../core/concurrency.js';
import type { Context } from '../../core/context.js';
import { defineCheck, type EvaluationEnv } from '../check.js';
import { KUBERNETES_FINDINGS as F } from './findings.js';

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

export interface ErrorLogEvidence {
  tailLines: number;
  pods: PodLogEvidence[];
}

/**
 * Error logs (`kubectl logs -l app=aegis-api --tail=100 | grep -i error`): the last N lines of each
 * app pod, and of the previous instance of a container that restarted, read a few pods at a time
 * and bounded in bytes; lines matching ERROR or FATAL are counted per pod with a few samples.
 */
export const errorLogsCheck = defineCheck<ErrorLogEvidence>({
  id: 'error-logs',
  title: 'Error lines in recent logs',
  target: 'cluster',
  async collect(ctx) {
    const { logTailLines, logSamples } = ctx.config.triage;
    const reads = await readAppLogs(ctx, logTailLines);
    const pods = reads.map((r) => scanLog(r.text, { pod: r.pod, container: r.container, previous: r.previous, samples: logSamples }));
    return { tailLines: logTailLines, pods: pods.sort((a, b) => a.pod.localeCompare(b.pod)) };
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

/**
 * Reads the last `tailLines` of each app pod's log, and of the previous instance of a container
 * that restarted and is not running (its crash is in there), a few pods at a time, bounded in bytes.
 * Pods whose container has not started yet are passed over: there is nothing to read.
 */
export async function readAppLogs(ctx: Context, tailLines: number): Promise<LogRead[]> {
  const kube = await ctx.kube();
  const pods = await kube.listPods(ctx.config.app.selector);
  const targets = pods.flatMap((pod) => {
    const name = pod.metadata?.name ?? '';
    const container = ctx.config.app.container ?? pod.spec?.containers?.[0]?.name;
    const statuses = pod.status?.containerStatuses ?? [];
    const status = statuses.find((c) => c.name === container);
    const restarted = (status?.restartCount ?? 0) > 0;
    const running = Boolean(status?.state?.running);
    // A container that never started (ContainerCreating, ImagePullBackOff, a pod not scheduled yet) has
    // no log: the API answers 400. A name no status carries is still asked for, so a wrong
    // app.container is reported rather than passed over.
    const notStarted = status ? !restarted && !running && !status.state?.terminated : statuses.length === 0;
    if (notStarted) return [];
    const reads = [{ pod: name, container, previous: false }];
    if (restarted && !running) reads.push({ pod: name, container, previous: true });
    return reads;
  });
  return mapLimited(targets, ctx.config.triage.logConcurrency, async (target): Promise<LogRead> => {
    const text = await kube.readPodLog(target.pod, {
      container: target.container,
      tailLines,
      limitBytes: LOG_BYTES_LIMIT,
      previous: target.previous,
      timestamps: true,
    });
    return { pod: target.pod, container: target.container ?? null, previous: target.previous, text };
  });
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
  const findings: Finding[] = [];
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
