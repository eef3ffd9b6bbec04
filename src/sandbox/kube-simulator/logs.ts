import type { LogSource, PodRuntime } from './runtime.js';
import { badRequest } from './status.js';
import type { KubeObject } from './store.js';
import { rfc3339Nano } from './time.js';
import { requestedContainer } from './workloads.js';

/** The query parameters of `GET …/pods/{name}/log` the simulator honours. */
export interface LogQuery {
  readonly container?: string;
  readonly previous: boolean;
  readonly timestamps: boolean;
  readonly tailLines?: number;
  readonly sinceSeconds?: number;
  readonly sinceTime?: string;
  readonly limitBytes?: number;
}

interface TimedLine {
  readonly at: number;
  readonly text: string;
}

interface ContainerStatusLike {
  name: string;
  restartCount?: number;
  state?: { waiting?: { reason?: string } };
}

/**
 * Checks a log request the way the kubelet and apiserver do and returns the log sources to read; throws 400
 * BadRequest with their wording for an ambiguous, unknown or not-yet-started container or a missing previous instance.
 */
export function selectLogSources(pod: KubeObject, runtime: PodRuntime, query: LogQuery): readonly LogSource[] {
  const name = pod.metadata.name;
  const container = requestedContainer(pod, query.container);
  const statuses = ((pod['status'] as { containerStatuses?: ContainerStatusLike[] } | undefined)
    ?.containerStatuses ?? []);
  const status = statuses.find((s) => s.name === container);
  const logs = runtime.logs.get(container);
  if ((pod['status'] as { reason?: string } | undefined)?.reason === 'Evicted') {
    // The kubelet removed an evicted pod's containers, and their logs with them.
    throw badRequest(`container "${container}" in pod "${name}" is not available`);
  }
  if (query.previous) {
    if (logs?.previous === undefined) {
      throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    }
    return logs.previous;
  }
  const waiting = status?.state?.waiting?.reason;
  if (waiting !== undefined && (status?.restartCount ?? 0) === 0) {
    throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${waiting}`);
  }
  return logs?.current ?? [];
}

/**
 * The log text for a request, chunk by chunk: lines merged in time order from the sources, none later than `now`,
 * filtered by since, cut to the last `tailLines` and to `limitBytes`. Generators are expanded lazily and at most
 * `tailLines` lines are held, so a scenario's hundred-thousand-line generator costs no memory until it is read.
 */
export function* renderLogs(sources: readonly LogSource[], query: LogQuery, now: Date): Generator<string> {
  const since = query.sinceSeconds !== undefined
    ? now.getTime() - query.sinceSeconds * 1000
    : query.sinceTime !== undefined ? Date.parse(query.sinceTime) : Number.NEGATIVE_INFINITY;
  let lines: Iterable<TimedLine> = mergeByTime(sources.map(expand));
  lines = filter(lines, (l) => l.at >= since && l.at <= now.getTime());
  if (query.tailLines !== undefined) lines = tail(lines, query.tailLines);
  let budget = query.limitBytes ?? Number.POSITIVE_INFINITY;
  for (const line of lines) {
    const text = `${query.timestamps ? `${rfc3339Nano(new Date(line.at))} ` : ''}${line.text}\n`;
    const bytes = Buffer.byteLength(text);
    if (bytes >= budget) {
      yield Buffer.from(text).subarray(0, budget).toString();
      return;
    }
    budget -= bytes;
    yield text;
  }
}

function* expand(source: LogSource): Generator<TimedLine> {
  if (source.kind === 'line') {
    yield { at: source.at, text: source.line };
    return;
  }
  for (let i = 0; i < source.count; i += 1) {
    const template = source.lines[i % source.lines.length] ?? '';
    yield { at: source.from + i * source.everyMs, text: template.replaceAll('{n}', String(i + 1)) };
  }
}

/** k-way merge of time-ordered streams; ties keep source order, so a scenario's listed order is preserved. */
function* mergeByTime(streams: Iterator<TimedLine>[]): Generator<TimedLine> {
  const heads = streams.map((s) => s.next());
  for (;;) {
    let best = -1;
    heads.forEach((h, i) => {
      const current = heads[best];
      if (!h.done && (current === undefined || current.done || h.value.at < current.value.at)) best = i;
    });
    const head = heads[best];
    const stream = streams[best];
    if (head === undefined || head.done || stream === undefined) return;
    yield head.value;
    heads[best] = stream.next();
  }
}

function* filter<T>(items: Iterable<T>, keep: (item: T) => boolean): Generator<T> {
  for (const item of items) if (keep(item)) yield item;
}

function tail<T>(items: Iterable<T>, count: number): T[] {
  if (count <= 0) return [];
  const ring: T[] = [];
  let seen = 0;
  for (const item of items) {
    ring[seen % count] = item;
    seen += 1;
  }
  const start = seen <= count ? 0 : seen % count;
  return [...ring.slice(start), ...ring.slice(0, start)];
}
