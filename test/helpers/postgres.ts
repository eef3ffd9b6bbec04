import pg from 'pg';
import { startSandboxPostgres, type SandboxPostgresOptions } from '../../src/sandbox/postgres.js';

type Client = pg.Client;

/** A PostgreSQL server for one test file, and a database of its own on it. */
export interface TestPostgres {
  url: string;
  password: string;
  database: string;
  /** A client of the test database (or `database`), ended by `stop()`. */
  client(options?: { database?: string; applicationName?: string; user?: string; password?: string }): Promise<Client>;
  /** Runs one statement as the server's admin, on a short-lived connection. */
  admin<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** pids of the client backends alive now. */
  alivePids(): Promise<Set<number>>;
  stop(): Promise<void>;
}

/**
 * Starts an embedded PostgreSQL for the calling test file; with `DATABASE_URL` set (and no server
 * settings asked for) it uses that server instead, in a fresh database it drops afterwards.
 */
export async function startTestPostgres(options?: SandboxPostgresOptions): Promise<TestPostgres> {
  const external = process.env.DATABASE_URL;
  const clients: Client[] = [];
  let base: { url: string; password: string; stop(): Promise<void> };
  if (external && !options) {
    const url = new URL(external);
    const name = `aegis_ir_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const root = new pg.Client({ connectionString: external });
    await root.connect();
    await root.query(`CREATE DATABASE ${name}`);
    await root.end();
    url.pathname = `/${name}`;
    base = {
      url: url.toString(),
      password: decodeURIComponent(url.password),
      stop: async () => {
        const drop = new pg.Client({ connectionString: external });
        await drop.connect();
        await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await drop.end();
      },
    };
  } else {
    const server = await startSandboxPostgres(options);
    base = { url: server.url, password: server.password, stop: () => server.stop() };
  }
  const parsed = new URL(base.url);
  const database = parsed.pathname.slice(1);
  const client = async (o: { database?: string; applicationName?: string; user?: string; password?: string } = {}) => {
    const c = new pg.Client({
      host: parsed.hostname,
      port: Number(parsed.port || 5432),
      user: o.user ?? decodeURIComponent(parsed.username),
      password: o.password ?? base.password,
      database: o.database ?? database,
      application_name: o.applicationName ?? 'test',
    });
    c.on('error', () => undefined);
    await c.connect();
    clients.push(c);
    return c;
  };
  const admin = async <R extends object>(sql: string, params?: unknown[]) => {
    const c = await client({ applicationName: 'test-admin' });
    try {
      return (await c.query<R>(sql, params)).rows;
    } finally {
      await c.end();
    }
  };
  return {
    url: base.url,
    password: base.password,
    database,
    client,
    admin,
    alivePids: async () =>
      new Set((await admin<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`)).map((r) => r.pid)),
    async stop() {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await base.stop();
    },
  };
}

/** The backend pid of a client (node-postgres keeps it from the startup handshake). */
export function pidOf(client: Client): number {
  return (client as unknown as { processID: number }).processID;
}

/** Resolves once `condition` holds, polling; fails the test after `ms`. */
export async function until(condition: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
