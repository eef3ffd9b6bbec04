import type { DbSession } from './port.js';

/**
 * Reads of `pg_stat_activity` and the connection settings for the db-connections check (`diagnose`,
 * `triage`, and `fix db-connections` when it verifies). Each statement runs in its own transaction,
 * so each sees a fresh statistics snapshot.
 */

/** The connection-limit settings, as `SHOW` prints them; `reservedConnections` is null before PostgreSQL 16. */
export interface ConnectionSettings {
  serverVersion: string;
  maxConnections: number;
  superuserReservedConnections: number;
  reservedConnections: number | null;
  /** Milliseconds; 0 means off. */
  idleSessionTimeoutMs: number | null;
  idleInTransactionSessionTimeoutMs: number;
}

const SETTING_NAMES = [
  'server_version',
  'max_connections',
  'superuser_reserved_connections',
  'reserved_connections',
  'idle_session_timeout',
  'idle_in_transaction_session_timeout',
];

export async function readSettings(db: DbSession, signal: AbortSignal): Promise<ConnectionSettings> {
  const rows = await db.query<{ name: string; setting: string }>(
    'SELECT name, setting FROM pg_settings WHERE name = ANY($1)',
    [SETTING_NAMES],
    signal,
  );
  const value = new Map(rows.map((r) => [r.name, r.setting]));
  const number = (name: string): number | null => (value.has(name) ? Number(value.get(name)) : null);
  return {
    serverVersion: value.get('server_version') ?? 'unknown',
    maxConnections: number('max_connections') ?? 0,
    superuserReservedConnections: number('superuser_reserved_connections') ?? 0,
    reservedConnections: number('reserved_connections'),
    idleSessionTimeoutMs: number('idle_session_timeout'),
    idleInTransactionSessionTimeoutMs: number('idle_in_transaction_session_timeout') ?? 0,
  };
}

/** One client session as the diagnosis shows it. */
export interface SessionRow {
  pid: number;
  database: string | null;
  user: string | null;
  application: string;
  client: string | null;
  /** `active`, `idle`, `idle in transaction`, `idle in transaction (aborted)`, … (null for the tool's view of other roles without pg_read_all_stats). */
  state: string | null;
  /** Seconds since `state_change`, as of the statement's `now()`. */
  inStateSeconds: number | null;
  blockedBy: number[];
}

/** Where a session of `pg_stat_activity a` connects from: its address, `local` over a Unix socket, else null. */
export const SESSION_CLIENT_SQL = `COALESCE(host(a.client_addr), CASE WHEN a.client_port = -1 THEN 'local' END)`;

// No query text: it can hold a literal password (ALTER ROLE … PASSWORD), and nothing shows it.
const SESSION_COLUMNS = `
  a.pid, a.datname AS database, a.usename AS "user", COALESCE(a.application_name, '') AS application,
  ${SESSION_CLIENT_SQL} AS client, a.state,
  EXTRACT(EPOCH FROM (now() - a.state_change))::float8 AS "inStateSeconds",
  pg_blocking_pids(a.pid) AS "blockedBy"`;

/**
 * Every client backend on the server (all databases), the tool's own session included since it holds
 * a slot too. Background workers, autovacuum and WAL senders have slots of their own and do not count
 * against `max_connections`, which is why the runbook's bare `count(*)` over-counts.
 */
export async function readClientSessions(db: DbSession, signal: AbortSignal): Promise<{ sessions: SessionRow[]; otherBackends: number }> {
  const [sessions, [meta]] = await Promise.all([
    db.query<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM pg_stat_activity a
        WHERE a.backend_type = 'client backend'
        ORDER BY a.state_change NULLS LAST, a.pid`,
      [],
      signal,
    ),
    db.query<{ other: number }>(
      `SELECT count(*) FILTER (WHERE backend_type <> 'client backend')::int AS other FROM pg_stat_activity`,
      [],
      signal,
    ),
  ]);
  return { sessions, otherBackends: meta?.other ?? 0 };
}
