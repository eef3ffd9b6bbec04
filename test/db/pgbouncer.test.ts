import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PoolRow } from '../../src/db/pgbouncer.js';
import { freePort } from '../../src/sandbox/postgres.js';
import { findBinary } from '../helpers/binary.js';
import { runCaptured } from '../helpers/cli.js';
import { startTestPostgres, until, type TestPostgres } from '../helpers/postgres.js';

/**
 * `diagnose db-connections` against a real PgBouncer (Debian's package in CI) in front of the embedded
 * PostgreSQL: one client holds the only server connection of the pool in a transaction, a second one
 * waits for it, and the check must read that from the admin console's `SHOW POOLS`.
 */

const APP_PASSWORD = 'app-Pool-Secret-4k9q';
const ADMIN_USER = 'pgb_admin';
const ADMIN_PASSWORD = 'admin-Console-Secret-8w2z';
const WRONG_PASSWORD = 'wrong-Console-Pass-3j7x';

/** Debian's package puts it in /usr/sbin, which is not on every PATH. */
const binary = findBinary('pgbouncer', 'PGBOUNCER_BIN', 'apt-get install -y --no-install-recommends pgbouncer', ['/usr/sbin/pgbouncer']);
if ('missing' in binary) console.warn(`skipping the PgBouncer tests: ${binary.missing}`);

interface Bouncer {
  port: number;
  /** Everything PgBouncer logged, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts PgBouncer on a free 127.0.0.1 port in front of `db`, one server connection per pool. Clients
 * authenticate with SCRAM-SHA-256 against the plain-text userlist: a wrong password is really
 * refused, and PgBouncer, holding the plain password, can itself answer PostgreSQL 18's
 * scram-sha-256 when it opens server connections (an md5 or SCRAM secret in the userlist could not).
 * PgBouncer refuses to run as root, so as root it runs as the `postgres` user the embedded server created.
 */
async function startPgBouncer(bin: string, db: TestPostgres): Promise<Bouncer> {
  const server = new URL(db.url);
  const dir = mkdtempSync(join(tmpdir(), 'aegis-ir-pgbouncer-'));
  const port = await freePort();
  const userlist = join(dir, 'userlist.txt');
  const ini = join(dir, 'pgbouncer.ini');
  writeFileSync(userlist, `"app" "${APP_PASSWORD}"\n"${ADMIN_USER}" "${ADMIN_PASSWORD}"\n`, { mode: 0o600 });
  writeFileSync(
    ini,
    [
      '[databases]',
      `${db.database} = host=${server.hostname} port=${server.port} dbname=${db.database}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${userlist}`,
      `admin_users = ${ADMIN_USER}`,
      'pool_mode = transaction',
      'default_pool_size = 1',
      'min_pool_size = 0',
      'reserve_pool_size = 0',
      'max_client_conn = 20',
      'server_tls_sslmode = disable',
      '',
    ].join('\n'),
  );
  const asRoot = process.getuid?.() === 0;
  let command = bin;
  let args = [ini];
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    for (const path of [dir, userlist, ini]) chownSync(path, uid, gid);
    chmodSync(dir, 0o700);
    // setpriv execs PgBouncer itself, so the child's pid is PgBouncer's and stopping it stops PgBouncer.
    command = 'setpriv';
    args = [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', bin, ini];
  }
  let output = '';
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk) => (output += String(chunk)));
  child.stderr?.on('data', (chunk) => (output += String(chunk)));
  let exited = false;
  child.on('exit', () => (exited = true));
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(async () => {
      if (exited) throw new Error(`pgbouncer exited at start:\n${output}`);
      return listening(port);
    }, 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, log: () => output, stop };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface DiagnoseDoc {
  severity: string | null;
  findings: Array<{ code: string; severity: string | null; resource: string; summary: string; evidence?: Record<string, unknown> }>;
  checks?: unknown;
}

describe.skipIf('missing' in binary)('diagnose db-connections through a real PgBouncer', () => {
  let db: TestPostgres;
  let bouncer: Bouncer;
  const clients: pg.Client[] = [];
  let blocked: Promise<unknown> | undefined;

  const bouncerClient = async (options: { user: string; password: string; database: string }) => {
    const client = new pg.Client({ host: '127.0.0.1', port: bouncer.port, application_name: 'pgbouncer-test', ...options });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  };
  const adminUrl = (password: string) => `postgres://${ADMIN_USER}:${encodeURIComponent(password)}@127.0.0.1:${bouncer.port}/pgbouncer`;
  const env = (pgbouncerUrl: string) => ({
    HOME: '/nonexistent',
    AEGIS_IR_AUDIT_LOG: '/tmp/aegis-ir-test-audit.jsonl',
    DATABASE_URL: db.url,
    AEGIS_IR_PGBOUNCER_URL: pgbouncerUrl,
  });

  beforeAll(async () => {
    db = await startTestPostgres({ maxConnections: 20 });
    await db.admin(`CREATE ROLE app LOGIN PASSWORD '${APP_PASSWORD}'`);
    bouncer = await startPgBouncer((binary as { path: string }).path, db);
    // The pool's only server connection, held by an open transaction (transaction pooling keeps it until COMMIT).
    const holder = await bouncerClient({ user: 'app', password: APP_PASSWORD, database: db.database });
    await holder.query('BEGIN');
    await holder.query('SELECT 1');
    // A second client of the same pool: its query waits for that server connection.
    const waiter = await bouncerClient({ user: 'app', password: APP_PASSWORD, database: db.database });
    blocked = waiter.query('SELECT 2').catch(() => undefined);
    const adminConsole = await bouncerClient({ user: ADMIN_USER, password: ADMIN_PASSWORD, database: 'pgbouncer' });
    await until(async () => {
      const { rows } = await adminConsole.query<{ database: string; cl_waiting: string | number }>('SHOW POOLS');
      return rows.some((r) => r.database === db.database && Number(r.cl_waiting) === 1);
    }).catch((error: Error) => {
      throw new Error(`${error.message}; pgbouncer log:\n${bouncer.log()}`);
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await blocked;
    await bouncer?.stop();
    await db?.stop();
  });

  it('reports the pools as evidence and the waiting client as a SEV3 finding', async () => {
    const run = await runCaptured(['diagnose', 'db-connections', '-o', 'json'], { env: env(adminUrl(ADMIN_PASSWORD)) });
    const document = JSON.parse(run.stdout) as DiagnoseDoc;
    expect(document.findings.find((f) => f.code === 'AEG-2008')).toBeUndefined();
    const waiting = document.findings.find((f) => f.code === 'AEG-2007');
    expect(waiting).toMatchObject({ severity: 'SEV3', resource: `pgbouncer/${db.database}` });
    expect(waiting?.summary).toMatch(new RegExp(`^1 client\\(s\\) wait for a server connection in PgBouncer pool ${db.database}/app \\(longest `));
    const pool = waiting?.evidence as unknown as PoolRow;
    expect(pool).toMatchObject({ database: db.database, user: 'app', clientsActive: 1, clientsWaiting: 1, serversActive: 1, serversIdle: 0, mode: 'transaction' });
    expect(pool.maxWaitSeconds).toBeGreaterThan(0);
    // Every pool, waiting or not, is in the evidence beside the server's connection usage.
    const usage = document.findings.find((f) => f.code === 'AEG-2000');
    const reported = usage?.evidence?.pgbouncer as { url: string; pools: PoolRow[] } | undefined;
    expect(reported?.url).toBe(`postgres://${ADMIN_USER}:***@127.0.0.1:${bouncer.port}/pgbouncer`);
    expect(reported?.pools.find((p) => p.database === db.database && p.user === 'app')).toMatchObject({ clientsWaiting: 1, clientsActive: 1 });
    expect(reported?.pools.find((p) => p.database === 'pgbouncer')).toMatchObject({ clientsWaiting: 0, mode: 'statement' });
    expect(document.severity).toBe('SEV3');
    expect(run.code).toBe(3);
    const printed = run.stdout + run.stderr;
    expect(printed).not.toContain(ADMIN_PASSWORD);
    expect(printed).not.toContain(APP_PASSWORD);
  });

  it('says the admin console cannot be read with a wrong password, and never prints the password', async () => {
    const run = await runCaptured(['diagnose', 'db-connections', '-o', 'json'], { env: env(adminUrl(WRONG_PASSWORD)) });
    const document = JSON.parse(run.stdout) as DiagnoseDoc;
    const unavailable = document.findings.find((f) => f.code === 'AEG-2008');
    expect(unavailable?.resource).toBe('pgbouncer');
    expect(unavailable?.summary).toContain(`SHOW POOLS on postgres://${ADMIN_USER}:***@127.0.0.1:${bouncer.port}/pgbouncer failed: `);
    // PgBouncer 1.18 says "SASL authentication failed" (SQLSTATE 08P01); later versions send 28P01, which reads "password authentication failed".
    expect(unavailable?.summary).toMatch(/authentication failed/);
    expect(document.findings.find((f) => f.code === 'AEG-2000')?.evidence).not.toHaveProperty('pgbouncer');
    expect(document.findings.find((f) => f.code === 'AEG-2007')).toBeUndefined();
    const printed = run.stdout + run.stderr;
    expect(printed).not.toContain(WRONG_PASSWORD);
    expect(printed).not.toContain(encodeURIComponent(WRONG_PASSWORD));
  });

  it('takes the console password from the password file when the URL has none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aegis-ir-pgpass-'));
    const passfile = join(dir, 'pgpass');
    writeFileSync(passfile, `127.0.0.1:${bouncer.port}:pgbouncer:${ADMIN_USER}:${ADMIN_PASSWORD}\n`, { mode: 0o600 });
    try {
      const run = await runCaptured(['diagnose', 'db-connections', '-o', 'json'], {
        env: { ...env(`postgres://${ADMIN_USER}@127.0.0.1:${bouncer.port}/pgbouncer`), PGPASSFILE: passfile },
      });
      const document = JSON.parse(run.stdout) as DiagnoseDoc;
      expect(document.findings.find((f) => f.code === 'AEG-2008')).toBeUndefined();
      expect(document.findings.find((f) => f.code === 'AEG-2007')).toMatchObject({ severity: 'SEV3', resource: `pgbouncer/${db.database}` });
      expect(run.stdout + run.stderr).not.toContain(ADMIN_PASSWORD);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
