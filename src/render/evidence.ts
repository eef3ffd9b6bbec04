import { formatDuration } from '../core/duration.js';

/** How many items of a list the text shows before "N more; -v to show". */
const LIST_ITEMS = 3;
/** A longer evidence line is left to -v. */
const LINE_CHARS = 100;

/**
 * A finding's evidence as text lines (`key: value`, quantities humanised), and what was left for `-v`: the
 * rest of long lists and the values too long for a line, named so the reader knows what -v would add.
 */
export function evidenceText(evidence: Record<string, unknown>, verbose: boolean): { lines: string[]; hidden: string[] } {
  const lines: string[] = [];
  const hidden: string[] = [];
  for (const [key, value] of Object.entries(evidence)) {
    const list = Array.isArray(value) ? value : null;
    const shown = list && !verbose && list.length > LIST_ITEMS ? list.slice(0, LIST_ITEMS) : value;
    const text = humanise(key, shown);
    if (!verbose && text.length > LINE_CHARS) {
      hidden.push(list && list.length > 1 ? `${list.length} ${key}` : key);
      continue;
    }
    lines.push(`${key}: ${text}`);
    if (list && shown !== value) hidden.push(`${list.length - LIST_ITEMS} more ${key}`);
  }
  return { lines, hidden };
}

/** A value for a person: ratios as %, bytes in Ki/Mi/Gi, milliseconds as durations, no float noise. */
export function humanise(key: string, value: unknown): string {
  if (typeof value === 'number') return humaneNumber(key, value);
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => humanise(key, v)).join(', ')}]`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${k}: ${humanise(k, v)}`).join(', ')}}`;
  return String(value);
}

function humaneNumber(key: string, value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (/(ratio|share|oflimit|fraction|percent|utili[sz]ation|saturation)$/i.test(key) && value >= 0 && value <= 1) return `${round(value * 100)}%`;
  // A container's usage, request and limit in bytes (diagnose memory): no core count or item count is a MiB.
  const containerBytes = /^(usage|request|limit)$/.test(key) && Number.isInteger(value) && value >= 1024 ** 2;
  if (/bytes/i.test(key) || containerBytes || (/memory/i.test(key) && Number.isInteger(value) && value >= 1024)) return bytes(value);
  if (/(Ms|Millis)$/.test(key) || key === 'ms') return formatDuration(value);
  if (/seconds$/i.test(key)) return value >= 1 ? formatDuration(value * 1000) : `${round(value * 1000)}ms`;
  return Number.isInteger(value) ? String(value) : String(round(value));
}

/** Three significant digits at most, never a trailing float tail (0.022000000000000002 → 0.022). */
function round(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Number(value.toPrecision(3));
}

function bytes(value: number): string {
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
  let n = value;
  let unit = 0;
  while (Math.abs(n) >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value}B` : `${round(n)}${units[unit]}`;
}
