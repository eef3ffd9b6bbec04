import { GuardError, UnreachableError, UsageError } from '../core/errors.js';
import { messageLine } from '../core/neutralise.js';
import { describeNetworkCode, isTlsCode, networkCode } from '../core/network.js';
import type { DbTarget } from './target.js';

/** SQLSTATEs the tool tells apart; see https://www.postgresql.org/docs/current/errcodes-appendix.html. */
export const SQLSTATE = {
  tooManyConnections: '53300',
  invalidPassword: '28P01',
  invalidAuthorization: '28000',
  invalidCatalogName: '3D000',
  cannotConnectNow: '57P03',
  adminShutdown: '57P01',
  queryCanceled: '57014',
  insufficientPrivilege: '42501',
} as const;

/** How to get a connection while the ordinary slots are full; shown wherever 53300 is reported. */
export const RESERVED_SLOT_ADVICE =
  'PostgreSQL keeps superuser_reserved_connections slots (default 3) for superusers and, from PostgreSQL 16, ' +
  'reserved_connections slots for roles granted pg_use_reserved_connections. Connect as such a role to diagnose ' +
  'and fix: GRANT pg_use_reserved_connections TO <role>; then aegis-ir diagnose db-connections --database-url ' +
  'postgres://<role>@<host>/<database>';

/**
 * The server refused the tool's own connection with SQLSTATE 53300: every ordinary slot is taken.
 * Unreachable for the exit code (4), and itself the SEV1 finding "database refusing connections".
 */
export class TooManyConnectionsError extends UnreachableError {
  readonly sqlstate = SQLSTATE.tooManyConnections;
  constructor(
    readonly db: string,
    /** Whose limit was reached: the server's max_connections, or a role's or database's CONNECTION LIMIT. */
    readonly limit: ConnectionLimit = { of: 'server', name: null },
  ) {
    super(
      'database',
      limit.of === 'server'
        ? `the database at ${db} refused the connection: too many connections (SQLSTATE 53300)`
        : `the database at ${db} refused the connection: ${limit.of} "${limit.name}" is at its CONNECTION LIMIT (SQLSTATE 53300)`,
      limit.of === 'server' ? RESERVED_SLOT_ADVICE : `raise it (ALTER ${limit.of.toUpperCase()} ${limit.name} CONNECTION LIMIT n) or close that ${limit.of}'s idle sessions`,
    );
  }
}

/** The limit behind a 53300: the server's slots, or one role's or database's `CONNECTION LIMIT`. */
export interface ConnectionLimit {
  of: 'server' | 'role' | 'database';
  name: string | null;
}

/**
 * Tells the three 53300s apart by the server function that raised them (`routine`, never
 * translated): CheckMyDatabase for a database's limit, InitializeSessionUserId for a role's; the
 * English message stands in when a proxy drops the routine.
 */
export function connectionLimitOf(error: { routine?: unknown; message?: unknown }): ConnectionLimit {
  const message = String(error.message ?? '');
  const named = /too many connections for (?:role|database) "([^"]+)"/.exec(message)?.[1] ?? null;
  if (error.routine === 'CheckMyDatabase' || /too many connections for database/.test(message)) return { of: 'database', name: named };
  if (error.routine === 'InitializeSessionUserId' || /too many connections for role/.test(message)) return { of: 'role', name: named };
  return { of: 'server', name: null };
}

/**
 * Maps a driver error to the contract's typed errors by SQLSTATE or socket error code, never by
 * message text (messages are translated by the server's lc_messages). Errors it does not know are
 * returned unchanged.
 */
export function toDbError(error: unknown, target: DbTarget): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return clientSideError(error, target);
  const where = target.display;
  switch (code) {
    case SQLSTATE.tooManyConnections:
      return new TooManyConnectionsError(where, connectionLimitOf(error as { routine?: unknown; message?: unknown }));
    case SQLSTATE.invalidPassword:
    case SQLSTATE.invalidAuthorization:
      // The database's own failure for this run: its checks error, the others still give their verdict.
      return new UnreachableError(
        'database',
        `the database at ${target.host}:${target.port} rejected user "${target.user}" (SQLSTATE ${code}: ${code === SQLSTATE.invalidPassword ? 'password authentication failed' : 'not authorised by pg_hba.conf'})`,
        CREDENTIALS_HINT,
      );
    case SQLSTATE.invalidCatalogName:
      return new UnreachableError(
        'database',
        `database "${target.database}" does not exist on ${target.host}:${target.port} (SQLSTATE ${code})`,
        'check the database name in the URL or PGDATABASE; list them with: psql -l',
      );
    case SQLSTATE.cannotConnectNow:
    case SQLSTATE.adminShutdown:
      return new UnreachableError('database', `the database at ${where} is not accepting connections (SQLSTATE ${code}: starting up or shutting down)`);
    case SQLSTATE.queryCanceled:
      return new UnreachableError('database', `a query to ${where} was cancelled by statement_timeout (SQLSTATE ${code})`, 'raise database.statementTimeout in the config');
    case SQLSTATE.insufficientPrivilege:
      return new GuardError(
        `user "${target.user}" lacks a privilege on ${where} (SQLSTATE ${code})`,
        'connect as a role with the needed rights (see the preflight message)',
      );
    default: {
      const network = networkCode(error);
      if (network) {
        return new UnreachableError(
          'database',
          `cannot reach the database at ${where} (${describeNetworkCode(network)})`,
          isTlsCode(network)
            ? "check the server's certificate against sslrootcert / PGSSLROOTCERT, or lower sslmode; then try: psql -c \"select 1\""
            : REACH_HINT,
        );
      }
      return error;
    }
  }
}

const CREDENTIALS_HINT = 'check the user and password in --database-url, DATABASE_URL, PGUSER/PGPASSWORD or ~/.pgpass';
const REACH_HINT = 'check --database-url / DATABASE_URL / PGHOST and PGPORT, then try: psql -c "select 1"';

/**
 * The driver's own errors (no SQLSTATE), which are not translated by the server: said the way psql says
 * them. Anything else is returned unchanged.
 */
function clientSideError(error: unknown, target: DbTarget): unknown {
  const message = error instanceof Error ? error.message : '';
  // node-postgres asked for a password by a server while it has none: SCRAM's "client password must be a string".
  if (target.password === undefined && /client password must be a|password must be a string/i.test(message)) {
    return new UnreachableError(
      'database',
      `the database at ${target.host}:${target.port} asks user "${target.user}" for a password and none was supplied (fe_sendauth: no password supplied)`,
      'put the password in PGPASSWORD or ~/.pgpass (or PGPASSFILE), or in --database-url / DATABASE_URL',
    );
  }
  if (/does not support SSL/i.test(message)) return new NoTlsError(target);
  return error;
}

/** The server answered that it has no TLS, which sslmode=require and stricter need (prefer then falls back to plain text). */
export class NoTlsError extends UnreachableError {
  constructor(target: DbTarget) {
    super('database', `the database at ${target.display} does not accept TLS (sslmode=${target.sslmode})`, 'use sslmode=prefer, or sslmode=disable where plain text is acceptable');
  }
}

/**
 * A failure to open a session, as one line naming the database: what {@link toDbError} does not know
 * (the server closing the connection during start-up, a proxy speaking something else) is the target's
 * failure too, never a driver's message or a bug.
 */
export function toConnectError(error: unknown, target: DbTarget): Error {
  const typed = toDbError(error, target);
  if (typed instanceof UnreachableError || typed instanceof GuardError || typed instanceof UsageError) return typed;
  const message = typed instanceof Error ? typed.message : String(typed);
  return new UnreachableError(
    'database',
    /^Connection terminated/.test(message)
      ? `the database at ${target.display} closed the connection before the session started`
      : `cannot connect to the database at ${target.display} (${messageLine(message)})`,
    REACH_HINT,
  );
}
