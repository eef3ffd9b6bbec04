import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { UsageError } from '../core/errors.js';
import { pgpassPassword } from './pgpass.js';

/** How TLS is used, in libpq's `sslmode` words. */
export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

/**
 * Where the database is and who connects, resolved from `--database-url`, `DATABASE_URL`, the config
 * file's `database.url` and the libpq `PG*` variables, the password also from the libpq password file. The password is kept apart from everything
 * that is shown: {@link DbTarget.display} never contains it.
 */
export interface DbTarget {
  host: string;
  port: number;
  user: string;
  database: string;
  sslmode: SslMode;
  /** The root certificate(s) to verify the server against (`sslrootcert`, `PGSSLROOTCERT`, `~/.postgresql/root.crt`). */
  sslrootcert?: string;
  /** Only ever handed to the driver; never printed, logged or audited. */
  password?: string;
  /** `user@host:port/database`, for messages. */
  display: string;
}

const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** libpq variables that, on their own, say a database is configured (a password alone does not). */
const PG_LOCATION_VARIABLES = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGUSER'] as const;

/**
 * Resolves the database the tool talks to, or null when none is configured. The URL comes from the
 * usual precedence (flag > `DATABASE_URL` > config file); as in libpq, `PG*` variables fill in what the
 * URL leaves out, and alone describe the database when there is no URL.
 */
export function resolveDbTarget(config: Config, env: Record<string, string | undefined>): DbTarget | null {
  const url = config.database.url;
  if (!url && !PG_LOCATION_VARIABLES.some((name) => env[name])) return null;
  const fromUrl = url ? parseDbUrl(url) : {};
  const host = fromUrl.host || env.PGHOST || env.PGHOSTADDR || 'localhost';
  const user = fromUrl.user || env.PGUSER || userInfo().username;
  const database = fromUrl.database || env.PGDATABASE || user;
  const portText = fromUrl.port || env.PGPORT || '5432';
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new UsageError(`database port ${JSON.stringify(portText)} is not a port number`, 'check DATABASE_URL or PGPORT');
  }
  const sslmode = (fromUrl.sslmode || env.PGSSLMODE || 'prefer') as SslMode;
  if (!SSL_MODES.includes(sslmode)) {
    throw new UsageError(`sslmode ${JSON.stringify(sslmode)} is not one of ${SSL_MODES.join(', ')}`, 'check DATABASE_URL or PGSSLMODE');
  }
  const password =
    fromUrl.password || env.PGPASSWORD || pgpassPassword({ host, port, database, user }, env) || undefined;
  const shownHost = host.startsWith('/') ? `[${host}]` : host.includes(':') ? `[${host}]` : host;
  const defaultRoot = env.HOME ? join(env.HOME, '.postgresql', 'root.crt') : undefined;
  const sslrootcert = fromUrl.sslrootcert || env.PGSSLROOTCERT || (defaultRoot && existsSync(defaultRoot) ? defaultRoot : undefined);
  return {
    host, port, user, database, sslmode, password, ...(sslrootcert ? { sslrootcert } : {}),
    display: `${user}@${shownHost}:${port}/${database}`,
  };
}

interface UrlParts {
  host?: string;
  port?: string;
  user?: string;
  password?: string;
  database?: string;
  sslmode?: string;
  sslrootcert?: string;
}

/**
 * Why `text` cannot be a database URL, said without quoting it (it may hold a password), or null when it
 * can: the configuration refuses such a URL before any command runs.
 */
export function dbUrlProblem(text: string): string | null {
  try {
    parseDbUrl(text);
    return null;
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
}

/** Parses a `postgres://` / `postgresql://` URL; query parameters `host`, `port`, `user`, `sslmode` and friends as libpq reads them. */
function parseDbUrl(text: string): UrlParts {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The value may hold a password, so it is not repeated.
    throw new UsageError(
      'the database URL is not a valid URL',
      'expected postgres://USER@HOST:5432/DATABASE, with the password in PGPASSWORD or ~/.pgpass',
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new UsageError(`the database URL has scheme "${url.protocol}" instead of postgres: or postgresql:`);
  }
  const decoded = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new UsageError(
        `the database URL's ${what} has a bad percent-encoding (write a literal "%" as %25)`,
        'write a literal % as %25 (in a password too), or put the password in PGPASSWORD or ~/.pgpass',
      );
    }
  };
  const query = url.searchParams;
  return {
    host: query.get('host') ?? (url.hostname ? decoded(url.hostname, 'host').replace(/^\[(.*)\]$/, '$1') : undefined),
    port: query.get('port') ?? (url.port || undefined),
    user: query.get('user') ?? (url.username ? decoded(url.username, 'user name') : undefined),
    password: query.get('password') ?? (url.password ? decoded(url.password, 'password') : undefined),
    database: query.get('dbname') ?? (url.pathname.length > 1 ? decoded(url.pathname.slice(1), 'database name') : undefined),
    sslmode: query.get('sslmode') ?? undefined,
    sslrootcert: query.get('sslrootcert') ?? undefined,
  };
}
