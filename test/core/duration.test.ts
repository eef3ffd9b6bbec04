import { describe, expect, it } from 'vitest';
import { formatDuration, formatUtc, parseDuration } from '../../src/core/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['1.5s', 1500],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '10', 'ten minutes', '10x', '-5m', 'm'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [450, '450ms'],
    [45_000, '45s'],
    [5 * 60_000 + 7_000, '5m7s'],
    [12 * 60_000, '12m'],
    [3 * 3_600_000 + 20 * 60_000, '3h20m'],
    [2 * 86_400_000 + 4 * 3_600_000, '2d4h'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatUtc', () => {
  it('gives the UTC day and minute, leaving the day out when it is today (UTC) for the reader', () => {
    expect(formatUtc('2026-11-28T16:40:59.999Z')).toBe('2026-11-28 16:40 UTC');
    expect(formatUtc('2026-11-28T16:40:00+02:00')).toBe('2026-11-28 14:40 UTC');
    expect(formatUtc('2026-12-01T02:53:00.000Z', new Date('2026-12-01T23:59:00Z'))).toBe('02:53 UTC');
    expect(formatUtc('2026-11-30T23:59:00.000Z', new Date('2026-12-01T00:01:00Z'))).toBe('2026-11-30 23:59 UTC');
  });
});
