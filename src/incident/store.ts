import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { incidentId, incidentSchema, type Incident } from './record.js';

/** Highest sequence number tried in one day before giving up: the id's `XX` keeps two digits up to 99. */
export const MAX_PER_DAY = 999;

/** How many times a write that lost a race is re-read and tried again. */
export const WRITE_ATTEMPTS = 20;

/**
 * Where incident records live (`incident.store`): one JSON file per incident under the state
 * directory, or one ConfigMap per incident in the namespace so a whole rotation shares them. Both
 * hand out sequence numbers unique per UTC day, even to two operators opening at the same instant.
 */
export interface IncidentStore {
  /** Where the records are, for messages: a directory, or `configmaps in namespace aegis`. */
  readonly where: string;
  /** Claims the next free number of `openedAt`'s UTC day and stores the record `build` makes for that id. */
  create(openedAt: Date, build: (id: string) => Incident): Promise<Incident>;
  /** The record, or null when there is none with that id. */
  get(id: string): Promise<Incident | null>;
  /** Every record, oldest first. */
  list(): Promise<Incident[]>;
  /**
   * Read, change, write under optimistic concurrency: when another writer got in between, the record
   * is read again and `change` applied again (so it must derive everything from the record it gets).
   * `change` returns null to leave the record as it is. Returns the record as stored.
   */
  update(id: string, change: (incident: Incident) => Incident | null): Promise<Incident>;
}

/** The configured store, connected for this run. */
export async function openStore(ctx: Context): Promise<IncidentStore> {
  if (ctx.config.incident.store === 'kubernetes') {
    const { KubeIncidentStore } = await import('./kube-store.js');
    return new KubeIncidentStore(await ctx.kube(), ctx.signal);
  }
  const { LocalIncidentStore, localIncidentDir } = await import('./local-store.js');
  return new LocalIncidentStore(localIncidentDir(ctx.env));
}

/** Parses a stored record; a damaged one is named with where it is, never silently skipped. */
export function parseRecord(text: string, where: string): Incident {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError(`the incident record ${where} is not valid JSON`, `inspect or move it aside: ${where}`);
  }
  const parsed = incidentSchema.safeParse(data);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw new UsageError(
      `the incident record ${where} is not one aegis-ir wrote: ${issue?.path.join('.') || 'record'}: ${issue?.message ?? 'invalid'}`,
      `inspect or move it aside: ${where}`,
    );
  }
  return parsed.data;
}

/** The record as stored: pretty JSON, one trailing newline. */
export function serialize(incident: Incident): string {
  return `${JSON.stringify(incident, null, 2)}\n`;
}

/** Candidate ids for a day, from `first` up. */
export function* candidateIds(openedAt: Date, first = 1): Generator<string> {
  for (let n = Math.max(1, first); n <= MAX_PER_DAY; n += 1) yield incidentId(openedAt, n);
  throw new UsageError(`more than ${MAX_PER_DAY} incidents on one day; that is not an incident, it is a storm`, 'aegis-ir incident list');
}

/** The sequence number of an id (`INC-20261201-07` → 7). */
export function sequenceOf(id: string): number {
  return Number(id.slice(id.lastIndexOf('-') + 1));
}

/** `id` when it is an incident id; a usage error naming it otherwise (an id becomes a file or object name). */
export function checkedId(id: string): string {
  if (!/^INC-\d{8}-\d+$/.test(id)) {
    throw new UsageError(`"${id}" is not an incident id; expected INC-YYYYMMDD-XX`, 'aegis-ir incident list');
  }
  return id;
}

/** Runs one change for `update`: the record bumped to its next revision, or null for no change. */
export function applyChange(incident: Incident, change: (incident: Incident) => Incident | null): Incident | null {
  const next = change(structuredClone(incident));
  return next ? { ...next, revision: incident.revision + 1 } : null;
}

/** Lost every race in a row: someone is writing the record in a loop. */
export function contended(id: string, where: string): Error {
  return new Error(`incident ${id} in ${where} kept changing while being written (${WRITE_ATTEMPTS} attempts)`);
}
