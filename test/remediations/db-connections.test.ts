import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Prompter } from '../../src/core/context.js';
import { runCaptured, type CliRun } from '../helpers/cli.js';
import { pidOf, startTestPostgres, until, type TestPostgres } from '../helpers/postgres.js';

let db: TestPostgres;
let env: Record<string, string>;
let auditLog: string;
/** Sessions in known states, by role in the test. */
const held: Record<'oldIdle' | 'oldIdleInTx' | 'active' | 'otherDb' | 'young', pg.Client[]> = {
  oldIdle: [],
  oldIdleInTx: [],
  active: [],
  otherDb: [],
  young: [],
};
const pids = (clients: pg.Client[]) => clients.map(pidOf).sort((a, b) => a - b);
// Long enough that a session refreshed just before a run stays younger than it on a loaded machine.
const THRESHOLD = '4s';
const PAST_THRESHOLD_MS = 4_300;

beforeAll(async () => {
  db = await startTestPostgres();
  auditLog = join(mkdtempSync(join(tmpdir(), 'aegis-ir-audit-')), 'audit.jsonl');
  env = { HOME: '/nonexistent', DATABASE_URL: db.url, AEGIS_IR_AUDIT_LOG: auditLog };
  await db.admin('CREATE DATABASE other');
  for (let i = 0; i < 3; i += 1) held.oldIdle.push(await db.client({ applicationName: 'old-idle' }));
  const tx = await db.client({ applicationName: 'old-idle-in-tx' });
  await tx.query('BEGIN');
  await tx.query('SELECT 1');
  held.oldIdleInTx.push(tx);
  held.otherDb.push(await db.client({ database: 'other', applicationName: 'other-db' }));
  const busy = await db.client({ applicationName: 'active' });
  void busy.query('SELECT pg_sleep(60)').catch(() => undefined);
  held.active.push(busy);
  // Everything above is now older than the threshold; what follows stays younger than it.
  await new Promise((r) => setTimeout(r, PAST_THRESHOLD_MS));
  for (let i = 0; i < 2; i += 1) held.young.push(await db.client({ applicationName: 'young' }));
});

afterAll(async () => {
  await db?.stop();
});

// On a loaded machine a few tests take about as long as the threshold: keep the young sessions young.
beforeEach(async () => {
  for (const client of held.young) await client.query('SELECT 1');
});

function fix(args: string[], overrides: { prompter?: Prompter; signal?: AbortSignal } = {}): Promise<CliRun> {
  return runCaptured(['fix', 'db-connections', '--idle-older-than', THRESHOLD, ...args], {
    env,
    ...(overrides.prompter ? { prompter: overrides.prompter, stdinIsTTY: true } : {}),
    ...(overrides.signal ? { signal: overrides.signal } : {}),
  });
}

function targetPids(run: CliRun): number[] {
  const document = JSON.parse(run.stdout) as { plan: { targets: Array<{ pid: number }> } };
  return document.plan.targets.map((t) => t.pid).sort((a, b) => a - b);
}

describe('diagnose db-connections against real PostgreSQL', () => {
  it('counts client connections by state as pg_stat_activity does, the tool itself included', async () => {
    const outside = await db.client({ applicationName: 'counter' });
    const rows = (
      await outside.query<{ state: string; n: number }>(
        `SELECT state, count(*)::int AS n FROM pg_stat_activity
          WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY state`,
      )
    ).rows;
    const expected: Record<string, number> = Object.fromEntries(rows.map((r) => [r.state, r.n]));
    // While the tool runs, this counting session is idle and the tool's own session is active.
    expected.idle = (expected.idle ?? 0) + 1;
    expected.active = (expected.active ?? 0) + 1;
    const run = await runCaptured(['diagnose', 'db-connections', '-o', 'json', '--idle-older-than', THRESHOLD], { env });
    await outside.end();
    // The old idle-in-transaction session is a SEV4 finding, which the default --fail-on counts.
    expect(run.code).toBe(3);
    const document = JSON.parse(run.stdout) as { findings: Array<{ code: string; evidence: Record<string, unknown> }> };
    const usage = document.findings.find((f) => f.code === 'AEG-2000');
    expect(usage?.evidence.byState).toEqual(expected);
    const idle = document.findings.find((f) => f.code === 'AEG-2003');
    const idlePids = (idle?.evidence.sessions as Array<{ pid: number }>).map((s) => s.pid);
    expect(idlePids).toEqual(expect.arrayContaining([...pids(held.oldIdle), ...pids(held.otherDb)]));
    expect(idlePids).not.toEqual(expect.arrayContaining(pids(held.young)));
    expect(document.findings.map((f) => f.code)).toContain('AEG-2004');
    expect(run.stdout + run.stderr).not.toContain(db.password);
  });
});

describe('fix db-connections against real PostgreSQL', () => {
  it('--dry-run plans exactly the old idle sessions of the target database and changes nothing', async () => {
    const before = await db.alivePids();
    const run = await fix(['--dry-run', '-o', 'json']);
    expect(run.code).toBe(0);
    expect(targetPids(run)).toEqual(pids(held.oldIdle));
    const document = JSON.parse(run.stdout) as { applied: boolean; command: string; schemaVersion: number; plan: { targets: Array<{ pid: number }>; steps: Array<{ action: string }> } };
    expect(document).toMatchObject({ schemaVersion: 1, command: 'fix db-connections', applied: false });
    // The statement apply runs, values inlined: each session only while still the one planned, in the target database.
    const [terminate, wait] = document.plan.steps as [{ action: string }, { action: string }];
    expect(document.plan.steps).toHaveLength(2);
    expect(terminate.action).toMatch(/^SELECT a\.pid, pg_terminate_backend\(a\.pid\) AS signalled\n/);
    const planned = await db.admin<{ pid: number; start: string; change: string }>(
      'SELECT pid, backend_start::text AS start, state_change::text AS change FROM pg_stat_activity WHERE pid = ANY($1)',
      [pids(held.oldIdle)],
    );
    for (const s of planned) expect(terminate.action).toContain(`(${s.pid}::int, '${s.start}'::timestamptz, '${s.change}'::timestamptz, 'idle'::text)`);
    expect(terminate.action).toMatch(/ON a\.pid = planned\.pid AND a\.backend_start = planned\.backend_start\n.*AND a\.state_change = planned\.state_change AND a\.state = planned\.state\n WHERE a\.datname = current_database\(\)$/);
    expect(wait.action).toContain('FROM pg_stat_activity');
    expect(await db.alivePids()).toEqual(before);
  });

  it('--include-idle-in-transaction adds the old idle-in-transaction session only', async () => {
    const run = await fix(['--dry-run', '--include-idle-in-transaction', '-o', 'json']);
    expect(targetPids(run)).toEqual(pids([...held.oldIdle, ...held.oldIdleInTx]));
  });

  it('a role that is no superuser is told which sessions it may not terminate, and that it sees only its own', async () => {
    await db.admin(`CREATE ROLE watcher LOGIN PASSWORD 'watcher-Secret-1' IN ROLE pg_read_all_stats`);
    await db.admin(`CREATE ROLE outsider LOGIN PASSWORD 'outsider-Secret-1'`);
    const as = (user: string, password: string) => {
      const url = new URL(db.url);
      url.username = user;
      url.password = password;
      return url.toString();
    };
    const dryRun = ['fix', 'db-connections', '--idle-older-than', THRESHOLD, '--dry-run', '-o', 'json'];
    const watcher = await runCaptured(dryRun, { env: { ...env, DATABASE_URL: as('watcher', 'watcher-Secret-1') } });
    expect(watcher.code).toBe(5);
    expect(targetPids(watcher)).toEqual(pids(held.oldIdle));
    expect(watcher.stderr).toMatch(/preflight: role "watcher" is not a superuser and cannot terminate superuser sessions \(pids [\d, ]+\)/);
    for (const pid of pids(held.oldIdle)) expect(watcher.stderr).toMatch(new RegExp(`\\(pids [\\d, ]*\\b${pid}\\b`));
    const outsider = await runCaptured(dryRun, { env: { ...env, DATABASE_URL: as('outsider', 'outsider-Secret-1') } });
    expect(outsider.code).toBe(0);
    expect(targetPids(outsider)).toEqual([]);
    expect((JSON.parse(outsider.stdout) as { plan: { notes: string[] } }).plan.notes).toEqual([
      `role "outsider" sees the state of its own sessions only (no pg_read_all_stats); other roles' idle sessions are not in this plan`,
    ]);
  });

  it('refuses a plan over the safety cap unless --max allows it', async () => {
    const before = await db.alivePids();
    const run = await fix(['--yes', '--max', '2']);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/more than the safety cap of 2.*\n.*--max 3/);
    expect(await db.alivePids()).toEqual(before);
  });

  it('without a terminal and without --yes exits 2 before touching anything', async () => {
    const before = await db.alivePids();
    const run = await fix([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--yes');
    expect(await db.alivePids()).toEqual(before);
  });

  it('a session that turns active between plan and apply survives, and the run exits 5 with nothing applied', async () => {
    const [victim] = held.oldIdle as [pg.Client];
    const before = await db.alivePids();
    const prompter: Prompter = {
      confirm: async () => {
        void victim.query('SELECT pg_sleep(0.5)').catch(() => undefined);
        await until(async () => (await db.admin<{ state: string }>('SELECT state FROM pg_stat_activity WHERE pid = $1', [pidOf(victim)]))[0]?.state === 'active');
        return true;
      },
      input: () => Promise.reject(new Error('not asked')),
    };
    const run = await fix([], { prompter });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('plan changed');
    expect(await db.alivePids()).toEqual(before);
    // Let the victim go idle again; its state_change is now young, so it is no longer a target.
    await until(async () => (await db.admin<{ state: string }>('SELECT state FROM pg_stat_activity WHERE pid = $1', [pidOf(victim)]))[0]?.state === 'idle');
  });

  it('two operators at once: the second is refused naming the first, and "no" cancels with 130', async () => {
    const before = await db.alivePids();
    let second: CliRun | undefined;
    const prompter: Prompter = {
      confirm: async () => {
        second = await fix(['--yes']);
        return false;
      },
      input: () => Promise.reject(new Error('not asked')),
    };
    const first = await fix([], { prompter });
    expect(first.code).toBe(130);
    expect(second?.code).toBe(5);
    expect(second?.stderr).toMatch(/lock held by pid \d+ \(aegis-ir\//);
    expect(await db.alivePids()).toEqual(before);
  });

  it('Ctrl-C as the operator confirms: exit 130, nothing terminated, and the audit log says so', async () => {
    const before = await db.alivePids();
    const interrupt = new AbortController();
    const prompter: Prompter = {
      confirm: async () => {
        interrupt.abort();
        return true;
      },
      input: () => Promise.reject(new Error('not asked')),
    };
    const run = await fix([], { prompter, signal: interrupt.signal });
    expect(run.code).toBe(130);
    expect(await db.alivePids()).toEqual(before);
    const last = readFileSync(auditLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string });
    expect(last.map((l) => l.event).slice(-3)).toEqual(['confirmed', 'cancelled', 'verify']);
  });

  it('the database going away between the prompt and apply: exit 4 naming the lost connection, not an internal error', async () => {
    const before = await db.alivePids();
    const proxy = await tcpProxy(Number(new URL(db.url).port));
    const prompter: Prompter = {
      confirm: async () => {
        // What a failover or a network drop does to the tool's session while the operator reads the plan.
        proxy.cut();
        return true;
      },
      input: () => Promise.reject(new Error('not asked')),
    };
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const run = await runCaptured(['fix', 'db-connections', '--idle-older-than', THRESHOLD], {
      env: { ...env, DATABASE_URL: url.toString() },
      prompter,
      stdinIsTTY: true,
    });
    await proxy.close();
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^aegis-ir: lost the connection to the database at \S+ \(/m);
    expect(run.stderr).not.toContain('internal error');
    const alive = await db.alivePids();
    expect([...before].filter((pid) => !alive.has(pid))).toEqual([]);
  });

  it('--yes terminates exactly the old idle sessions; active, younger, other-database and its own survive', async () => {
    // The session that turned active above is, on a slow machine, old again by now: keep it recent.
    await (held.oldIdle[0] as pg.Client).query('SELECT 1');
    const run = await fix(['--yes', '-o', 'json']);
    expect(run.code).toBe(0);
    const expected = pids(held.oldIdle.slice(1));
    expect(targetPids(run)).toEqual(expected);
    const document = JSON.parse(run.stdout) as { applied: boolean; result: { steps: Array<{ status: string }>; verification: { summary: string } } };
    expect(document.applied).toBe(true);
    expect(document.result.steps.map((s) => s.status)).toEqual(['done', 'done']);
    expect(document.result.verification.summary).toMatch(/usable connections in use now/);
    const alive = await db.alivePids();
    for (const pid of expected) expect(alive.has(pid)).toBe(false);
    for (const client of [...held.active, ...held.young, ...held.otherDb, ...held.oldIdleInTx, held.oldIdle[0] as pg.Client]) {
      expect(alive.has(pidOf(client))).toBe(true);
    }
  });

  it('keeps an fsynced audit trail of every run, with no password in it', () => {
    const lines = readFileSync(auditLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; remediation: string });
    const events = lines.map((l) => l.event);
    for (const event of ['plan', 'cap-exceeded', 'plan-changed', 'lock-held', 'declined', 'confirmed', 'step', 'outcome', 'verify']) {
      expect(events).toContain(event);
    }
    // The journal holds the diagnoses' verdicts too; every other record is this remediation's.
    expect(lines.filter((l) => l.event !== 'verdict').every((l) => l.remediation === 'db-connections')).toBe(true);
    expect(readFileSync(auditLog, 'utf8')).not.toContain(db.password);
  });

  it('--plan applies the sessions of the reviewed dry run only, not the ones that went idle since', async () => {
    const reviewed = [await db.client({ applicationName: 'reviewed' }), await db.client({ applicationName: 'reviewed' })];
    await new Promise((r) => setTimeout(r, PAST_THRESHOLD_MS));
    const planPath = join(mkdtempSync(join(tmpdir(), 'aegis-ir-plan-')), 'plan.json');
    const dry = await fix(['--dry-run', '--save-plan', planPath, '-o', 'json']);
    expect(dry.code).toBe(0);
    const planned = targetPids(dry);
    expect(planned).toEqual(expect.arrayContaining(pids(reviewed)));
    // Sessions that go idle after the review and are past the threshold by the time it is applied.
    const later = [await db.client({ applicationName: 'later' }), await db.client({ applicationName: 'later' })];
    await new Promise((r) => setTimeout(r, PAST_THRESHOLD_MS));
    const apply = await fix(['--plan', planPath, '--yes', '-o', 'json']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(targetPids(apply)).toEqual(planned);
    const alive = await db.alivePids();
    for (const pid of planned) expect(alive.has(pid)).toBe(false);
    for (const client of later) expect(alive.has(pidOf(client))).toBe(true);
  }, 20_000);
});

/** A TCP relay to 127.0.0.1:`target` whose connections can all be cut at once, as a network drop would. */
async function tcpProxy(target: number): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
