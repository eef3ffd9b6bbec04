import type { DbTarget } from './target.js';

/**
 * One open connection: its server process id and plain parameterised queries. When a query's signal aborts
 * (a check's deadline, Ctrl-C) the connection is dropped at once and the query rejects with the deadline or
 * cancellation; the session is unusable after that.
 */
export interface DbSession {
  /** `pg_backend_pid()` of this connection, so the tool never counts or terminates itself. */
  readonly pid: number;
  /** False once the connection was dropped (an abort) or lost (the server ended it, a network drop). */
  readonly usable: boolean;
  query<R extends object = Record<string, unknown>>(sql: string, params: readonly unknown[], signal: AbortSignal): Promise<R[]>;
  close(): Promise<void>;
}

/**
 * What aegis-ir needs from PostgreSQL: where it is (for messages) and a way to open a session.
 * Nothing is connected until {@link DbPort.connect} is called, and each caller closes what it opened,
 * so a run never leaves sessions behind on a database that is short of them.
 */
export interface DbPort {
  readonly target: DbTarget;
  /** Opens a session; `signal` bounds the connecting only. */
  connect(signal: AbortSignal): Promise<DbSession>;
}
