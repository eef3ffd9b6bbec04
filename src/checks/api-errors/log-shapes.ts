import { makeFinding, type Finding } from '../../core/findings.js';
import { defineCheck, type EvaluationEnv } from '../check.js';
import { readAppLogs, splitTimestamp, type LogRead } from '../kubernetes/error-logs.js';
import { API_ERROR_FINDINGS as F } from './findings.js';

/** The runbook's diagnosis reads this many lines per pod (`--tail=500`). */
export const LOG_SHAPE_TAIL = 500;
/** Shapes reported, most frequent first. */
const SHAPES_SHOWN = 5;
/** Longest line kept as an example. */
const EXAMPLE_CHARS = 240;
/** `grep "ERROR\|FATAL"`: case-sensitive, as the runbook writes it. */
const ERROR_OR_FATAL = /\b(ERROR|FATAL)\b/;

/** One ERROR or FATAL line, as read. */
export interface ErrorLine {
  pod: string;
  at: string | null;
  line: string;
}

/** Evidence of the log-shapes check: the matching lines of every app pod's recent log. */
export interface LogShapesEvidence {
  tailLines: number;
  linesRead: number;
  lines: ErrorLine[];
}

/** Lines that differ only in ids, numbers, addresses and quoted values, counted together. */
export interface LogShape {
  shape: string;
  level: 'ERROR' | 'FATAL';
  count: number;
  pods: string[];
  example: string;
  firstAt: string | null;
  lastAt: string | null;
}

/**
 * Error log shapes (`kubectl logs -l app=aegis-api --tail=500 | grep "ERROR\|FATAL"`): the
 * runbook's diagnosis reads the errors themselves. Hundreds of lines usually say a handful of
 * things, so lines are grouped by shape — ids, numbers, addresses, durations and quoted values
 * masked — and counted per pod, most frequent first. JSON log lines are read by their level and
 * message fields. Context for the decision, not a severity of its own.
 */
export const logShapesCheck = defineCheck<LogShapesEvidence>({
  id: 'log-shapes',
  title: 'ERROR/FATAL log lines by shape',
  target: 'cluster',
  logTail: () => LOG_SHAPE_TAIL,
  async collect(ctx) {
    const { reads } = await readAppLogs(ctx, LOG_SHAPE_TAIL, errorLinesOf);
    return { tailLines: LOG_SHAPE_TAIL, linesRead: reads.reduce((n, r) => n + r.linesRead, 0), lines: reads.flatMap((r) => r.lines) };
  },
  evaluate: evaluateLogShapes,
});

/** The ERROR and FATAL lines of one pod's log read with timestamps, and how many lines it has. */
function errorLinesOf(read: LogRead): { linesRead: number; lines: ErrorLine[] } {
  let linesRead = 0;
  const lines: ErrorLine[] = [];
  for (const raw of read.text.split('\n')) {
    if (!raw) continue;
    linesRead += 1;
    const { at, line } = splitTimestamp(raw);
    if (parseLine(line).level) lines.push({ pod: read.pod, at, line: line.slice(0, EXAMPLE_CHARS) });
  }
  return { linesRead, lines };
}

export function evaluateLogShapes(evidence: LogShapesEvidence, _env: EvaluationEnv): Finding[] {
  return groupByShape(evidence.lines)
    .slice(0, SHAPES_SHOWN)
    .map((s) =>
      makeFinding(F.logShape, {
        check: 'log-shapes',
        params: { count: s.count, level: s.level, pods: s.pods.length, shape: s.shape },
        resource: s.pods.length === 1 ? `pod/${s.pods[0]}` : null,
        evidence: { example: s.example, pods: s.pods, firstAt: s.firstAt, lastAt: s.lastAt },
        since: s.firstAt,
      }),
    );
}

/** Groups error lines by {@link shapeOf}, most frequent first. */
export function groupByShape(lines: ErrorLine[]): LogShape[] {
  const shapes = new Map<string, LogShape>();
  for (const entry of lines) {
    const { level, message } = parseLine(entry.line);
    if (!level) continue;
    const shape = shapeOf(message);
    const group = shapes.get(shape) ?? { shape, level, count: 0, pods: [], example: entry.line, firstAt: null, lastAt: null };
    group.count += 1;
    if (!group.pods.includes(entry.pod)) group.pods.push(entry.pod);
    if (level === 'FATAL') group.level = 'FATAL';
    if (entry.at) {
      if (!group.firstAt || entry.at < group.firstAt) group.firstAt = entry.at;
      if (!group.lastAt || entry.at > group.lastAt) group.lastAt = entry.at;
    }
    shapes.set(shape, group);
  }
  return [...shapes.values()].sort((a, b) => b.count - a.count || a.shape.localeCompare(b.shape));
}

const MASKS: Array<[RegExp, string]> = [
  [/\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?/g, '<time>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '<ip>'],
  [/"[^"]*"|'[^']*'/g, '<str>'],
  [/\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi, '<hex>'],
  [/\b\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|KiB|MiB|GiB|Ki|Mi|Gi|B|%)?\b/g, '<n>'],
];

/** A message with its variable parts masked, so that lines saying the same thing compare equal. */
export function shapeOf(message: string): string {
  let shape = message;
  for (const [pattern, mask] of MASKS) shape = shape.replace(pattern, mask);
  return shape.replace(/\s+/g, ' ').trim();
}

/**
 * The level and message of a line: a JSON line's `level`/`msg` fields (any case, as structured
 * loggers write them), else the runbook's case-sensitive ERROR/FATAL anywhere in the text.
 */
function parseLine(line: string): { level: 'ERROR' | 'FATAL' | null; message: string } {
  if (line.startsWith('{')) {
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      const level = String(record.level ?? record.severity ?? '').toUpperCase();
      const message = String(record.msg ?? record.message ?? line);
      if (level === 'ERROR' || level === 'FATAL') return { level, message };
      return { level: null, message };
    } catch {
      // not JSON after all; read as text
    }
  }
  const match = ERROR_OR_FATAL.exec(line);
  return { level: (match?.[1] as 'ERROR' | 'FATAL' | undefined) ?? null, message: line };
}
