import { parseDuration } from '../../core/duration.js';

/** A source of the current time; injectable so scenarios and ages are reproducible in tests. */
export type Clock = () => Date;

/** The wall clock. */
export const systemClock: Clock = () => new Date();

/**
 * Resolves a scenario time: `now`, a negative offset such as `-5m` or `-1h30m`, or an absolute ISO-8601 timestamp.
 * Undefined when the text is none of these.
 */
export function resolveTime(text: string, now: Date): Date | undefined {
  if (text === 'now') return new Date(now.getTime());
  if (text.startsWith('-')) {
    const ms = parseDuration(text.slice(1));
    return ms === undefined ? undefined : new Date(now.getTime() - ms);
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** RFC 3339 with second precision, the form of every `metav1.Time` the apiserver returns. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 3339 with nanoseconds, the form of container log timestamps (`kubectl logs --timestamps`). */
export function rfc3339Nano(date: Date): string {
  // toISOString ends in milliseconds and Z, whatever the year: nanoseconds are those and six zeros. Cut
  // rather than matched, as every line of a log read with timestamps goes through here.
  return `${date.toISOString().slice(0, -1)}000000Z`;
}

/**
 * The apiserver's age rendering (k8s.io/apimachinery `duration.HumanDuration`), used by the AGE and RESTARTS columns,
 * so simulated tables read exactly like a real cluster's: `45s`, `5m30s`, `3h10m`, `3d`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}
