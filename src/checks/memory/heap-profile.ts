import { writeFile } from 'node:fs/promises';
import type { V1Pod } from '@kubernetes/client-node';
import type { Config } from '../../core/config.js';
import type { Context } from '../../core/context.js';
import { formatDuration, parseDuration } from '../../core/duration.js';
import { UsageError } from '../../core/errors.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import type { KubePort } from '../../kube/port.js';
import { parseQuantity } from '../../kube/quantity.js';
import { INUSE_SPACE, decodeProfile, diffTable, pprofPercent, pprofValue, profileCosts, topLines, topTable, type TopTable } from '../../pprof/heap-profile.js';
import { SkipCheck, defineCheck, type Check, type EvaluationEnv } from '../check.js';
import { MEMORY_FINDINGS as F } from './findings.js';
import { appContainerName, workloadSnapshot } from '../kubernetes/snapshot.js';
import { livePods } from './memory-usage.js';

/** Largest heap profile read; Go's are a few MB even for big heaps. */
const MAX_PROFILE_BYTES = 64 * 1024 * 1024;

/** What the operator asked of the heap profile (`--pod`, `--save-profile`, `--compare`). */
export interface HeapProfileRequest {
  pod?: string;
  saveTo?: string;
  compareMs?: number;
}

/** Reads `--pod`, `--save-profile` and `--compare`; `--compare` must leave room in the run's `--timeout`. */
export function heapProfileRequest(options: Record<string, unknown>, config: Config): HeapProfileRequest {
  const request: HeapProfileRequest = {};
  if (options.pod !== undefined) request.pod = String(options.pod);
  if (options.saveProfile !== undefined) request.saveTo = String(options.saveProfile);
  if (options.compare !== undefined) {
    const ms = parseDuration(String(options.compare));
    if (ms === undefined || ms <= 0) throw new UsageError(`--compare ${String(options.compare)} is not valid; expected a duration such as 30s or 2m`);
    if (ms + config.checkTimeout > config.timeout) {
      throw new UsageError(
        `--compare ${String(options.compare)} does not leave time in the run's ${formatDuration(config.timeout)} deadline`,
        `aegis-ir diagnose memory --compare ${String(options.compare)} --timeout ${formatDuration(ms + config.checkTimeout + 30_000)}`,
      );
    }
    request.compareMs = ms;
  }
  return request;
}

/** Evidence of the heap-profile check. */
export interface HeapProfileEvidence {
  pod: string;
  /** Why this pod: named by --pod, or using the most memory. */
  chosen: string;
  url: string;
  bytes: number;
  savedTo: string | null;
  top: TopTable;
  /** The `--compare` view: what changed after `afterMs`. */
  diff: { afterMs: number; table: TopTable } | null;
}

/**
 * Heap profile (runbook: "Enable profiling … go tool pprof heap.prof"): the Go heap profile of the
 * pod using the most memory (or `--pod`), fetched through the API server's pod proxy at
 * `memory.pprof.port`/`path` — no port-forward, no Go toolchain — and summarised as
 * `go tool pprof -top` summarises inuse_space. Its top allocator is the lead for the leak. A pod
 * that serves no such endpoint is skipped with the reason.
 */
export function heapProfileCheck(request: HeapProfileRequest = {}): Check {
  return defineCheck<HeapProfileEvidence>({
    id: 'heap-profile',
    title: 'Heap profile (pprof)',
    target: 'cluster',
    deadline: (config: Config) => config.checkTimeout + (request.compareMs ?? 0),
    async collect(ctx) {
      const kube = await ctx.kube();
      const { pod, chosen } = await choosePod(ctx, kube, request.pod);
      const { port, path } = ctx.config.memory.pprof;
      const first = await fetchProfile(kube, pod, port, path, ctx.signal);
      if (request.saveTo) await writeFile(request.saveTo, first);
      const topN = ctx.config.memory.topN;
      const before = profileCosts(decodeProfile(first), INUSE_SPACE);
      let diff: HeapProfileEvidence['diff'] = null;
      if (request.compareMs) {
        await sleep(request.compareMs, ctx.signal);
        const after = profileCosts(decodeProfile(await fetchProfile(kube, pod, port, path, ctx.signal)), INUSE_SPACE);
        diff = { afterMs: request.compareMs, table: diffTable(before, after, topN) };
      }
      return {
        pod,
        chosen,
        url: `${kube.server}/api/v1/namespaces/${kube.namespace}/pods/${pod}:${port}/proxy${path}`,
        bytes: first.length,
        savedTo: request.saveTo ?? null,
        top: topTable(before, topN),
        diff,
      };
    },
    evaluate: evaluateHeapProfile,
  });
}

/** The pod named by `--pod`, else the one whose app container uses the most memory, else the first running one. */
async function choosePod(ctx: Context, kube: KubePort, named: string | undefined): Promise<{ pod: string; chosen: string }> {
  const pods = livePods((await workloadSnapshot(ctx)).pods);
  const names = pods.map((p) => p.metadata?.name ?? '');
  if (named) {
    if (!names.includes(named)) {
      throw new UsageError(`--pod ${named} is not a pod of ${ctx.config.app.selector} in namespace ${kube.namespace}; it has ${names.join(', ') || 'none'}`, `list them: kubectl -n ${kube.namespace} get pods -l ${ctx.config.app.selector}`);
    }
    return { pod: named, chosen: '--pod' };
  }
  const running = pods.filter((p) => p.status?.phase === 'Running');
  if (!running.length) throw new SkipCheck(`no running pod of ${ctx.config.app.selector} to take a heap profile of`);
  const metrics = await kube.listPodMetrics(ctx.signal);
  const used = (pod: V1Pod) => {
    const app = appContainerName(pod, ctx.config.app);
    const entry = metrics?.find((m) => m.metadata.name === pod.metadata?.name)?.containers.find((c) => c.name === app);
    return parseQuantity(entry?.usage.memory) ?? -1;
  };
  const [top] = [...running].sort((a, b) => used(b) - used(a));
  const pod = top?.metadata?.name ?? '';
  return { pod, chosen: metrics && used(top as V1Pod) >= 0 ? 'uses the most memory' : 'first running pod (no metrics to compare)' };
}

async function fetchProfile(kube: KubePort, pod: string, port: number, path: string, signal: AbortSignal): Promise<Buffer> {
  const answer = await kube.proxyGet(pod, port, path, MAX_PROFILE_BYTES, signal);
  const where = `pod/${pod} port ${port}`;
  if (answer.status === 503) {
    throw new SkipCheck(`${where} has no pprof endpoint: nothing answers there (set memory.pprof.port if it serves pprof elsewhere)`);
  }
  if (answer.status === 404) {
    throw new SkipCheck(`${where} answers but serves no ${path} (404; set memory.pprof.path, or import net/http/pprof in the app)`);
  }
  if (answer.status !== 200) {
    throw new Error(`the pod proxy answered ${answer.status} for ${path} on ${where}: ${answer.body.subarray(0, 200).toString('utf8').trim()}`);
  }
  if (answer.truncated) throw new Error(`the heap profile of ${where} is larger than ${MAX_PROFILE_BYTES / 1024 ** 2} MiB`);
  return answer.body;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The lead for the leak: the function at the top of the table (what holds the heap), and with `--compare` what grew most. */
export function evaluateHeapProfile(evidence: HeapProfileEvidence, _env: EvaluationEnv): Finding[] {
  const check = 'heap-profile';
  const { top } = evidence;
  const [first] = top.rows;
  if (!first) return [];
  const findings = [
    makeFinding(F.topAllocator, {
      check,
      params: {
        pod: evidence.pod,
        function: first.function,
        flat: pprofValue(first.flat, top.outputUnit),
        share: pprofPercent(first.flatShare),
        total: pprofValue(top.total, top.outputUnit),
        where: `${first.file}:${first.line}`,
      },
      resource: `pod/${evidence.pod}`,
      evidence: {
        table: topLines(top),
        chosen: evidence.chosen,
        profile: evidence.savedTo ? `saved to ${evidence.savedTo} (${evidence.bytes} bytes): go tool pprof -top ${evidence.savedTo}` : `${evidence.bytes} bytes from ${evidence.url}`,
        top: top.rows.map((r) => ({ function: r.function, file: r.file, line: r.line, flat: r.flat, flatShare: r.flatShare, sumShare: r.sumShare, cum: r.cum, cumShare: r.cumShare, inline: r.inline })),
      },
    }),
  ];
  const grew = evidence.diff?.table.rows.find((r) => r.flat > 0);
  if (evidence.diff && grew) {
    const diff = evidence.diff.table;
    findings.push(
      makeFinding(F.heapGrowth, {
        check,
        params: { pod: evidence.pod, after: formatDuration(evidence.diff.afterMs), function: grew.function, delta: `+${pprofValue(grew.flat, diff.outputUnit)}`, where: `${grew.file}:${grew.line}` },
        resource: `pod/${evidence.pod}`,
        evidence: { table: topLines(diff), growth: diff.rows.map((r) => ({ function: r.function, flat: r.flat, cum: r.cum })) },
      }),
    );
  }
  return findings;
}
