import { describe, expect, it } from 'vitest';
import { fitGrowth, growthSpread, isGrowing, reachesLimitAt, splitAtRestarts } from '../../../src/checks/memory/trend-fit.js';

const MiB = 1024 ** 2;
const t0 = Date.parse('2026-12-01T12:00:00Z');
const minute = 60_000;
/** A point per 30 s over `minutes`, growing `perHour` from `start`, with ±1 MiB of alternating noise. */
const series = (start: number, perHour: number, minutes: number, from = t0) =>
  Array.from({ length: minutes * 2 + 1 }, (_, i) => ({ time: from + i * 30_000, value: start + (perHour * i) / 120 + (i % 2 ? MiB : -MiB) }));

describe('memory trend fit', () => {
  it('finds the growth per hour by least squares and when the line reaches the limit', () => {
    const fit = fitGrowth(series(300 * MiB, 120 * MiB, 60));
    expect(fit).not.toBeNull();
    expect(fit?.perHour).toBeCloseTo(120 * MiB, -4);
    // 420 MiB at the last point, 92 MiB below a 512 MiB limit at 120 MiB/h: 46 minutes later.
    const at = reachesLimitAt(fit!, 512 * MiB) as number;
    expect(Math.round((at - (t0 + 60 * minute)) / minute)).toBe(46);
    expect(isGrowing(fit!, 512 * MiB)).toBe(true);
  });

  it('calls flat or shrinking memory no trend towards the limit', () => {
    const flat = fitGrowth(series(300 * MiB, 0, 60))!;
    expect(reachesLimitAt(flat, 512 * MiB)).toBeNull();
    expect(isGrowing(flat, 512 * MiB)).toBe(false);
    expect(reachesLimitAt(fitGrowth(series(500 * MiB, -50 * MiB, 30))!, 512 * MiB)).toBeNull();
    // Already at the limit: reached now.
    const full = fitGrowth(series(512 * MiB, 0, 30))!;
    expect(reachesLimitAt(full, 511 * MiB)).toBe(full.lastAt);
  });

  it('refuses to call a few points or a few minutes a trend', () => {
    expect(fitGrowth(series(300 * MiB, 600 * MiB, 1))).toBeNull();
    expect(fitGrowth([])).toBeNull();
  });

  it('splits the series at restarts: a known termination, or a fall of more than 30%', () => {
    const before = series(200 * MiB, 300 * MiB, 40);
    const after = series(100 * MiB, 300 * MiB, 20, t0 + 41 * minute);
    const segments = splitAtRestarts([...after, ...before], []);
    expect(segments.map((s) => s.length)).toEqual([before.length, after.length]);
    // The latest instance alone gives the growth: without the split the fall would hide it.
    expect(fitGrowth(segments.at(-1)!)?.perHour).toBeCloseTo(300 * MiB, -5);
    const known = splitAtRestarts(series(200 * MiB, 0, 20), [t0 + 10 * minute + 1]);
    expect(known.map((s) => s.length)).toEqual([21, 20]);
  });

  it('tells growth shared by every pod from one hot pod', () => {
    expect(growthSpread(3, 3)).toBe('all-pods');
    expect(growthSpread(1, 3)).toBe('one-pod');
    expect(growthSpread(2, 3)).toBe('some-pods');
    expect(growthSpread(0, 3)).toBe('none');
  });
});
