const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(?:(\d+(?:\.\d+)?)(ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * Parses durations the way kubectl and Go do: `500ms`, `30s`, `10m`, `1h30m`, `2d`.
 * Returns milliseconds, or undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return total;
}

/** Formats milliseconds compactly for people: `45s`, `12m`, `3h20m`, `2d4h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 && minutes < 10 ? `${minutes}m${seconds % 60}s` : `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours}h${minutes % 60}m` : `${hours}h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days}d${hours % 24}h` : `${days}d`;
}

/**
 * `2026-11-28 16:40 UTC`, or `16:40 UTC` when `today` falls on the same UTC day: on-call rotations span time zones,
 * records are in UTC, and a time of day alone is ambiguous for something that began days ago.
 */
export function formatUtc(iso: string, today?: Date): string {
  const at = new Date(iso).toISOString();
  const day = at.slice(0, 10);
  return `${today !== undefined && day === today.toISOString().slice(0, 10) ? '' : `${day} `}${at.slice(11, 16)} UTC`;
}
