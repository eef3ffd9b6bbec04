import type { Point } from '../../prometheus/port.js';

/** A fall of the working set by more than this share between two points is a restart (the container began again). */
const RESTART_DROP = 0.3;
/** Fewer points than this, or a shorter span, is not a trend. */
const MIN_POINTS = 4;
const MIN_SPAN_MS = 5 * 60_000;
const HOUR_MS = 3_600_000;

/** The least-squares line through one container instance's working set. */
export interface GrowthFit {
  /** Bytes per hour; negative when it shrinks. */
  perHour: number;
  /** The fitted value at the last point (bytes), less noisy than the last sample. */
  fittedLast: number;
  /** The last sample's value and time. */
  last: number;
  lastAt: number;
  firstAt: number;
  points: number;
}

/**
 * Cuts a container's working-set series into its instances: at each known restart (a container's
 * last termination), and wherever it falls by more than 30% from one point to the next, as it does
 * when an OOM-killed container starts again with an empty heap.
 */
export function splitAtRestarts(points: readonly Point[], restarts: readonly number[]): Point[][] {
  const segments: Point[][] = [];
  let current: Point[] = [];
  const sorted = [...points].filter((p) => Number.isFinite(p.value)).sort((a, b) => a.time - b.time);
  for (const point of sorted) {
    const previous = current.at(-1);
    const restarted =
      previous !== undefined &&
      (point.value < previous.value * (1 - RESTART_DROP) || restarts.some((r) => r > previous.time && r <= point.time));
    if (restarted) {
      segments.push(current);
      current = [];
    }
    current.push(point);
  }
  if (current.length) segments.push(current);
  return segments;
}

/** The least-squares slope of one instance's points, or null when they are too few or too short a span to call a trend. */
export function fitGrowth(points: readonly Point[]): GrowthFit | null {
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last || points.length < MIN_POINTS || last.time - first.time < MIN_SPAN_MS) return null;
  // Times relative to the first point keep the sums well inside double precision.
  const n = points.length;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    const x = (p.time - first.time) / HOUR_MS;
    sx += x;
    sy += p.value;
    sxx += x * x;
    sxy += x * p.value;
  }
  const denominator = n * sxx - sx * sx;
  if (denominator === 0) return null;
  const slope = (n * sxy - sx * sy) / denominator;
  const intercept = (sy - slope * sx) / n;
  return {
    perHour: slope,
    fittedLast: intercept + slope * ((last.time - first.time) / HOUR_MS),
    last: last.value,
    lastAt: last.time,
    firstAt: first.time,
    points: n,
  };
}

/** When the fitted line reaches `limit` (epoch ms), or null when it does not grow; `lastAt` when it is already there. */
export function reachesLimitAt(fit: GrowthFit, limit: number): number | null {
  if (fit.fittedLast >= limit) return fit.lastAt;
  if (fit.perHour <= 0) return null;
  return fit.lastAt + ((limit - fit.fittedLast) / fit.perHour) * HOUR_MS;
}

/** Growth that counts as growing: at least 1 MiB/h and 2% of the limit (or of the usage, without one) per hour. */
export function isGrowing(fit: GrowthFit, limit: number | null): boolean {
  return fit.perHour >= Math.max(1024 ** 2, 0.02 * (limit ?? fit.last));
}

/**
 * How the growth is spread over the pods: every pod growing points at the code (a leak that every
 * replica has), one pod among steady ones at that pod (a hot shard, a stuck request).
 */
export type GrowthSpread = 'all-pods' | 'one-pod' | 'some-pods' | 'none';

export function growthSpread(growing: number, measured: number): GrowthSpread {
  if (growing === 0) return 'none';
  if (growing === measured && measured > 1) return 'all-pods';
  return growing === 1 ? 'one-pod' : 'some-pods';
}
