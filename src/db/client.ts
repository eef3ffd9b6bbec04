import type { ClientConfig } from 'pg';
import { readFileSync } from 'node:fs';
import { abortReason, untilAborted } from '../core/cancellation.js';
import { UnreachableError, UsageError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { NoTlsError, toConnectError, toDbError } from './errors.js';
import type { DbPort, DbSession } from './port.js';
import type { DbTarget } from './target.js';

export interface DbClientOptions {
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  /** A PgBouncer admin console: no server-side timeouts (it refuses unknown startup parameters), a client-side one instead. */
  pooler?: boolean;
  /**
   * The sessions' `application_name`: `aegis-ir/<operator>`, so that a lock holder or a session in
   * `pg_stat_activity` can be traced to a person. PostgreSQL keeps 63 bytes of it.
   */
  applicationName: string;
}

/**
 * A {@link DbPort} over node-postgres, imported on first connect so commands that never touch a
 * database do not load it. Driver errors are mapped to typed errors by SQLSTATE.
 */
export function createDbPort(target: DbTarget, options: DbClientOptions): DbPort {
  // With sslmode=prefer, a server that said it has no TLS is asked in plain text from then on (the
  // verification after a fix): node-postgres cannot fall back on the same connection as libpq does.
  let withoutTls = false;
  return {
    target,
    async connect(signal): Promise<DbSession> {
      if (signal.aborted) throw abortReason(signal, 'database');
      const { default: pg } = await import('pg');
      const open = async (ssl: ClientConfig['ssl']) => {
        const client = new pg.Client({
          host: target.host,
          port: target.port,
          user: target.user,
          database: target.database,
          password: target.password,
          ssl,
          application_name: options.applicationName.slice(0, 63),
          ...(options.pooler
            ? { query_timeout: options.statementTimeoutMs }
            : { statement_timeout: options.statementTimeoutMs, lock_timeout: options.statementTimeoutMs }),
        });
        current = client;
        // A session terminated under us (or a network drop) must not crash the process; the next query reports it.
        // Only the client in use counts: the end of one given up for plain text (sslmode=prefer) comes later.
        client.on('error', (error) => {
          if (current === client) lost ??= error;
        });
        client.on('end', () => {
          if (current === client) lost ??= new Error('the server closed the connection');
        });
        await withConnectDeadline(client.connect(), options.connectTimeoutMs, target, () => void client.end().catch(() => undefined));
        return client;
      };
      let lost: unknown;
      let current: InstanceType<typeof pg.Client> | undefined;
      // A hung server never answers a polite Terminate: the socket itself is dropped.
      const drop = () => (current as unknown as { connection?: { stream?: { destroy(): void } } } | undefined)?.connection?.stream?.destroy();
      const connecting = (async () => {
        if (withoutTls) return open(false);
        try {
          return await open(sslOption(target));
        } catch (error) {
          // libpq's prefer: TLS when the server offers it, else plain text.
          if (target.sslmode !== 'prefer' || !(error instanceof NoTlsError)) throw error;
          lost = undefined;
          withoutTls = true;
          return open(false);
        }
      })();
      const client = await untilAborted(connecting, signal, 'database', drop);
      let dropped = false;
      const dropOnce = () => {
        dropped = true;
        drop();
      };
      const query = async <R extends object>(sql: string, params: readonly unknown[]): Promise<R[]> => {
        try {
          return (await client.query<R>(sql, params as unknown[])).rows;
        } catch (error) {
          const typed = toDbError(lost ?? error, target);
          if (lost === undefined || typed instanceof UnreachableError) throw typed;
          // The session ended between two queries (a restart, a failover, pg_terminate_backend): a target gone, not a bug.
          throw new UnreachableError(
            'database',
            `lost the connection to the database at ${target.display} (${(lost as Error).message})`,
            'check that the database is up, then run the command again',
          );
        }
      };
      const run = <R extends object>(sql: string, params: readonly unknown[], querySignal: AbortSignal): Promise<R[]> =>
        untilAborted(query<R>(sql, params), querySignal, 'database', dropOnce);
      return {
        // The BackendKeyData the server sent at startup: pg_backend_pid() without a round trip.
        pid: (client as unknown as { processID: number }).processID,
        get usable() {
          return !dropped && lost === undefined;
        },
        query: run,
        // After an abort the socket is gone, and waiting for a goodbye could hang.
        close: async () => (dropped ? undefined : client.end().catch(() => undefined)),
      };
    },
  };
}

/**
 * TLS as libpq's sslmode says: prefer and require encrypt without checking the server (require
 * verifies the CA when a root certificate is there, as libpq does), verify-ca checks the chain,
 * verify-full the chain and the host name; disable and allow send plain text. Unix sockets never use TLS.
 */
function sslOption(target: DbTarget): ClientConfig['ssl'] {
  if (target.host.startsWith('/')) return false;
  const verifying = target.sslmode === 'verify-ca' || target.sslmode === 'verify-full';
  if (verifying && !target.sslrootcert) {
    throw new UsageError(
      `sslmode=${target.sslmode} needs the root certificate that signed the server's, and none was given`,
      'set PGSSLROOTCERT, add sslrootcert=FILE to the URL, or put it in ~/.postgresql/root.crt',
    );
  }
  const ca = target.sslrootcert ? readRootCert(target.sslrootcert) : undefined;
  switch (target.sslmode) {
    case 'prefer':
      return { rejectUnauthorized: false };
    case 'require':
      return ca ? { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined } : { rejectUnauthorized: false };
    case 'verify-ca':
      return { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ca, rejectUnauthorized: true };
    default:
      return false;
  }
}

function readRootCert(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the root certificate ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 'check PGSSLROOTCERT or sslrootcert=');
  }
}

/** Races the connect against our own timer, so a timeout is recognised by type rather than by driver message. */
async function withConnectDeadline(
  connecting: Promise<unknown>,
  ms: number,
  target: DbTarget,
  abandon: () => void,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abandon();
      reject(new UnreachableError('database', `cannot reach the database at ${target.display} (no answer within ${formatDuration(ms)})`, 'check the host and port, or raise database.connectTimeout'));
    }, ms);
  });
  try {
    await Promise.race([
      connecting.catch((error: unknown) => {
        // A failure found by the driver (no password to send) leaves the server waiting, holding a slot.
        abandon();
        return Promise.reject(toConnectError(error, target));
      }),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
