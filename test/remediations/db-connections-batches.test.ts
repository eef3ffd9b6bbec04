import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimited } from '../../src/core/concurrency.js';
import { createDbPort } from '../../src/db/client.js';
import type { DbPort } from '../../src/db/port.js';
import { resolveDbTarget } from '../../src/db/target.js';
import { dbConnectionsRemediation } from '../../src/remediations/db-connections.js';
import { runRemediation } from '../../src/remediations/engine.js';
import type { PlanStep } from '../../src/remediations/remediation.js';
import { testConfig } from '../helpers/config.js';
import { testContext } from '../helpers/context.js';
import { runCaptured } from '../helpers/cli.js';
import { pidOf, startTestPostgres, until, type TestPostgres } from '../helpers/postgres.js';

/** `fix db-connections` at the size of a real pool leak: hundreds of idle sessions, batched. */

const POOL = 400;
const THRESHOLD = '3s';
let db: TestPostgres;
let auditLog: string;
const pool: pg.Client[] = [];
/** Old idle sessions of a second database, for driving one batch by hand. */
const second: pg.Client[] = [];
/** Old idle sessions of a third database: two batches, for counting what a run asks the server. */
const THIRD = 150;
const third: pg.Client[] = [];

async function idleLongerThan(clients: pg.Client[], seconds: number, database: string): Promise<boolean> {
  const [row] = await db.admin<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE pid = ANY($1) AND state = 'idle' AND datname = $3 AND state_change < now() - make_interval(secs => $2)`,
    [clients.map(pidOf), seconds, database],
  );
  return row?.n === clients.length;
}

beforeAll(async () => {
  db = await startTestPostgres({ maxConnections: POOL + THIRD + 50 });
  auditLog = join(mkdtempSync(join(tmpdir(), 'aegis-ir-audit-')), 'audit.jsonl');
  await db.admin('CREATE DATABASE second');
  await db.admin('CREATE DATABASE third');
  pool.push(...(await mapLimited(Array.from({ length: POOL }), 8, () => db.client({ applicationName: 'leaky-pool' }))));
  for (let i = 0; i < 3; i += 1) second.push(await db.client({ database: 'second', applicationName: 'second' }));
  third.push(...(await mapLimited(Array.from({ length: THIRD }), 8, () => db.client({ database: 'third', applicationName: 'third' }))));
  await until(
    async () => (await idleLongerThan(pool, 3.2, db.database)) && (await idleLongerThan(second, 3.2, 'second')) && (await idleLongerThan(third, 3.2, 'third')),
    60_000,
  );
}, 120_000);

afterAll(async () => {
  await db?.stop();
});

describe('fix db-connections on hundreds of idle sessions', () => {
  it('terminates them in batches, each audited with every pid before it runs, and they are gone when it reports done', async () => {
    const young = await db.client({ applicationName: 'young' });
    const run = await runCaptured(['fix', 'db-connections', '--idle-older-than', THRESHOLD, '--max', String(POOL), '--yes', '-o', 'json'], {
      env: { HOME: '/nonexistent', DATABASE_URL: db.url, AEGIS_IR_AUDIT_LOG: auditLog },
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const document = JSON.parse(run.stdout) as {
      plan: { size: number; steps: Array<{ description: string; action: string }> };
      result: { steps: Array<{ description: string; status: string; detail: string }> };
    };
    const planned = pool.map(pidOf).sort((a, b) => a - b);
    expect(document.plan.size).toBe(POOL);
    // One statement per 100 sessions, then one wait for all of them.
    expect(document.plan.steps).toHaveLength(POOL / 100 + 1);
    expect(document.result.steps.map((s) => s.status)).toEqual(document.plan.steps.map(() => 'done'));
    expect(document.result.steps.at(-1)?.detail).toMatch(new RegExp(`^all ${POOL} terminated sessions are gone after `));
    // Gone as soon as the run says so: the wait is the run's, not the caller's.
    const alive = await db.alivePids();
    expect(planned.filter((pid) => alive.has(pid))).toEqual([]);
    expect(alive.has(pidOf(young))).toBe(true);

    const records = readFileSync(auditLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; description?: string; action?: string });
    const batches = records.filter((r) => r.event === 'step' && r.description?.startsWith('terminate '));
    expect(batches).toHaveLength(POOL / 100);
    const audited = batches.flatMap((r) => [...(r.description ?? '').matchAll(/\d+/g)].map(Number).slice(1));
    expect(audited.sort((a, b) => a - b)).toEqual(planned);
    // Each batch is on record before its outcome, and its statement names the same pids.
    for (const batch of batches) {
      const at = records.indexOf(batch);
      expect(records[at + 1]).toMatchObject({ event: 'outcome', description: batch.description, status: 'done' });
      for (const pid of [...(batch.description ?? '').matchAll(/\d+/g)].slice(1)) expect(batch.action).toContain(`(${pid[0]}::int, '`);
    }
  });

  it('checks identity in the statement itself, and names a session that does not go away', async () => {
    const ctx = testContext({ config: testConfig({ 'database.idleOlderThan': THRESHOLD, timeout: '2s', 'database.url': db.url.replace(/\/[^/]*$/, '/second') }) });
    const target = resolveDbTarget(ctx.config, {});
    if (!target) throw new Error('no database target');
    ctx.db = () => createDbPort(target, { connectTimeoutMs: 5_000, statementTimeoutMs: 10_000, applicationName: 'aegis-ir/test' });
    const session = await dbConnectionsRemediation.open(ctx, dbConnectionsRemediation.parseArgs({}, ctx));
    const [changed, stuck, idle] = second as [pg.Client, pg.Client, pg.Client];
    try {
      const plan = await session.plan();
      expect(plan.size).toBe(3);
      const [batch, wait] = plan.steps as [PlanStep, PlanStep];
      // After re-validation, before the statement: one session runs a query, one cannot act on signals.
      await changed.query('SELECT 1');
      process.kill(pidOf(stuck), 'SIGSTOP');
      try {
        const outcome = await session.applyStep(batch);
        expect(outcome).toEqual({
          status: 'skipped',
          detail: `2 of 3 signalled; changed since the plan (ran a query, ended or pid reused), left alone: pids ${pidOf(changed)}`,
        });
        const waited = await session.applyStep(wait);
        expect(waited.status).toBe('failed');
        expect(waited.detail).toBe(`signalled, but not gone after 2s (--timeout): 1 of 2 still there: pids ${pidOf(stuck)}`);
      } finally {
        process.kill(pidOf(stuck), 'SIGCONT');
      }
      const alive = await db.alivePids();
      expect(alive.has(pidOf(changed))).toBe(true);
      expect(alive.has(pidOf(idle))).toBe(false);
      await until(async () => !(await db.alivePids()).has(pidOf(stuck)));
    } finally {
      await session.close();
    }
  });

  it('asks the server only what it needs, on one connection, and runs the statements the plan shows', async () => {
    const ctx = testContext({ config: testConfig({ 'database.idleOlderThan': THRESHOLD, 'database.url': db.url.replace(/\/[^/]*$/, '/third'), 'audit.path': auditLog }) });
    const target = resolveDbTarget(ctx.config, {});
    if (!target) throw new Error('no database target');
    const asked: string[] = [];
    const terminations: Array<{ sql: string; params: readonly unknown[] }> = [];
    const port = createDbPort(target, { connectTimeoutMs: 5_000, statementTimeoutMs: 10_000, applicationName: 'aegis-ir/test' });
    const counting: DbPort = {
      target,
      async connect(signal) {
        asked.push('connect');
        const session = await port.connect(signal);
        return {
          pid: session.pid,
          get usable() {
            return session.usable;
          },
          query(sql, params, querySignal) {
            const kind = statementKind(sql);
            // Polls of the wait are counted once: how many depends on how fast the sessions exit.
            if (kind !== 'wait' || asked.at(-1) !== 'wait') asked.push(kind);
            if (kind === 'terminate') terminations.push({ sql, params });
            return session.query(sql, params, querySignal);
          },
          close: () => session.close(),
        };
      },
    };
    ctx.db = () => counting;
    const report = await runRemediation(ctx, dbConnectionsRemediation, {}, { dryRun: false, yes: true, max: THIRD });
    expect(report.steps.map((s) => s.status)).toEqual(['done', 'done', 'done']);
    expect(asked).toEqual([
      'connect',
      // The plan: the server's now and the role's rights in one statement, then the sessions; the preflight asks nothing more.
      'now and rights',
      'planned sessions',
      'lock',
      // Re-validation derives the plan again.
      'now and rights',
      'planned sessions',
      'terminate',
      'terminate',
      'wait',
      // The verification, on the same connection.
      'settings',
      'client sessions',
      'other backends',
      'unlock',
    ]);
    // Each batch runs exactly the statement its step shows and audits, with nothing bound to it.
    expect(terminations).toEqual(report.plan.steps.slice(0, 2).map((step) => ({ sql: step.action, params: [] })));
    const alive = await db.alivePids();
    expect(third.map(pidOf).filter((pid) => alive.has(pid))).toEqual([]);
  });
});

function statementKind(sql: string): string {
  const kinds: Array<[RegExp, string]> = [
    [/pg_terminate_backend/, 'terminate'],
    [/unnest\(/, 'wait'],
    [/pg_try_advisory_lock/, 'lock'],
    [/pg_advisory_unlock/, 'unlock'],
    [/now\(\)::text AS now/, 'now and rights'],
    [/a\.state = ANY/, 'planned sessions'],
    [/FROM pg_settings/, 'settings'],
    [/pg_blocking_pids/, 'client sessions'],
    [/backend_type <> 'client backend'/, 'other backends'],
  ];
  return kinds.find(([pattern]) => pattern.test(sql))?.[1] ?? sql;
}
