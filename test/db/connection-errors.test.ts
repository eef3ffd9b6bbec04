import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/sandbox/postgres.js';
import { runCaptured } from '../helpers/cli.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { simulatedCluster } from '../helpers/simulator.js';

const APP_PASSWORD = 'app-Secret-7f3k';
let db: TestPostgres;
let appUrl: string;
let opsUrl: string;
const appSessions: pg.Client[] = [];

function urlFor(user: string, password: string): string {
  const url = new URL(db.url);
  url.username = user;
  url.password = password;
  return url.toString();
}

beforeAll(async () => {
  // 6 slots: 2 for superusers, 1 for pg_use_reserved_connections, 3 for everyone else.
  db = await startTestPostgres({ maxConnections: 6, superuserReserved: 2, reserved: 1 });
  await db.admin(`CREATE ROLE app LOGIN PASSWORD '${APP_PASSWORD}'`);
  await db.admin(`CREATE ROLE ops LOGIN PASSWORD '${APP_PASSWORD}' IN ROLE pg_use_reserved_connections, pg_read_all_stats`);
  appUrl = urlFor('app', APP_PASSWORD);
  opsUrl = urlFor('ops', APP_PASSWORD);
  for (let i = 0; i < 3; i += 1) appSessions.push(await db.client({ user: 'app', password: APP_PASSWORD, applicationName: 'aegis-api' }));
});

afterAll(async () => {
  await db?.stop();
});

const env = () => ({ HOME: '/nonexistent', AEGIS_IR_AUDIT_LOG: '/tmp/aegis-ir-test-audit.jsonl' });

describe('connection failures map to findings and exit codes by SQLSTATE', () => {
  it('53300 on the tool’s own connection is a SEV1 finding that explains reserved slots', async () => {
    const run = await runCaptured(['diagnose', 'db-connections', '-o', 'json', '--database-url', appUrl], { env: env() });
    expect(run.code).toBe(3);
    const document = JSON.parse(run.stdout) as { severity: string; findings: Array<{ code: string; evidence: { reservedSlots?: string } }> };
    expect(document.severity).toBe('SEV1');
    const refused = document.findings.find((f) => f.code === 'AEG-2002');
    expect(refused?.evidence.reservedSlots).toMatch(/superuser_reserved_connections.*reserved_connections.*pg_use_reserved_connections/s);
    expect(run.stdout + run.stderr).not.toContain(APP_PASSWORD);
  });

  it('53300: what to rerun with is said, not a command with placeholders', async () => {
    const run = await runCaptured(['diagnose', 'db-connections', '--database-url', appUrl], { env: env() });
    expect(run.stdout).not.toMatch(/^ {2}\$ .*</m);
    expect(run.stdout).toContain(
      'Not available here\n  aegis-ir diagnose db-connections\n      needs a role that may use the reserved slots (a superuser, or one granted\n',
    );
  });

  it('a role with reserved slots gets in and sees every ordinary slot taken', async () => {
    const run = await runCaptured(['diagnose', 'db-connections', '-o', 'json', '--database-url', opsUrl], { env: env() });
    const document = JSON.parse(run.stdout) as { severity: string; findings: Array<{ code: string; evidence: Record<string, unknown> }> };
    expect(document.severity).toBe('SEV1');
    const refused = document.findings.find((f) => f.code === 'AEG-2002');
    expect(refused?.evidence).toMatchObject({ maxConnections: 6, usable: 3, reserved: { superuser: 2, roles: 1 } });
  });

  it('fix cannot connect when refused: exit 4 with the reserved-slot advice', async () => {
    const run = await runCaptured(['fix', 'db-connections', '--yes', '--database-url', appUrl], { env: env() });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('SQLSTATE 53300');
    expect(run.stderr).toContain('pg_use_reserved_connections');
  });

  it('a wrong password makes the database checks errored with the hint, naming the user, never showing the password', async () => {
    const run = await runCaptured(['diagnose', 'db-connections', '-o', 'json', '--database-url', urlFor('ops', 'wrong-Pass-99')], { env: env() });
    expect(run.code).toBe(4);
    const document = JSON.parse(run.stdout) as { command: string; checks: Array<{ id: string; status: string; error: string; hint: string }> };
    expect(document.command).toBe('diagnose db-connections');
    const check = document.checks.find((c) => c.id === 'db-connections');
    expect(check).toMatchObject({ status: 'errored' });
    expect(check?.error).toMatch(/^the database at 127\.0\.0\.1:\d+ rejected user "ops" \(SQLSTATE 28P01: password authentication failed\)$/);
    expect(run.stdout + run.stderr).not.toContain('wrong-Pass-99');
  });

  it('no password where the server asks for one reads like psql, not like the driver', async () => {
    const url = new URL(urlFor('ops', 'x'));
    url.password = '';
    const run = await runCaptured(['diagnose', 'db-connections', '--database-url', url.toString()], { env: env() });
    expect(run.code).toBe(4);
    expect(run.stdout + run.stderr).toMatch(/asks user "ops" for a password and none was supplied \(fe_sendauth: no password supplied\)/);
    expect(run.stdout + run.stderr).not.toMatch(/SASL|must be a string/);
  });

  it('a bad percent-encoding in the URL is exit 2 naming the setting, never the password, before any check', async () => {
    const run = await runCaptured(['diagnose', 'db-connections', '-o', 'json'], { env: { ...env(), DATABASE_URL: `postgres://ops:pw%zz-Hidden-2@127.0.0.1:5432/x` } });
    expect(run.code).toBe(2);
    const document = JSON.parse(run.stdout) as { error: { message: string; hint: string } };
    expect(document.error.message).toMatch(/^environment variable DATABASE_URL: database\.url: "postgres:\/\/ops:\*\*\*@127\.0\.0\.1:5432\/x" is not valid; .*password has a bad percent-encoding/);
    expect(document.error.hint).toBe('correct or unset DATABASE_URL');
    expect(run.stdout + run.stderr).not.toContain('Hidden-2');
    expect(run.stdout + run.stderr).not.toContain('URI malformed');
  });

  it('a refused TCP connection is unreachable: exit 4', async () => {
    const port = await freePort();
    const run = await runCaptured(['diagnose', 'db-connections', '--database-url', `postgres://x:pw-Hidden-1@127.0.0.1:${port}/x`], { env: env() });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('connection refused');
    expect(run.stderr).not.toContain('pw-Hidden-1');
  });
});

describe('the built CLI without a terminal', () => {
  const bin = new URL('../../dist/aegis-ir.js', import.meta.url).pathname;
  it.runIf(existsSync(bin))('fix without --yes exits 2 and changes nothing; --dry-run still works', () => {
    const environment = { ...env(), PATH: process.env.PATH ?? '', DATABASE_URL: opsUrl };
    const refused = spawnSync(process.execPath, [bin, 'fix', 'db-connections'], { env: environment, encoding: 'utf8', stdio: 'pipe' });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('--yes');
    const dryRun = spawnSync(process.execPath, [bin, 'fix', 'db-connections', '--dry-run', '-o', 'json'], { env: environment, encoding: 'utf8', stdio: 'pipe' });
    expect(dryRun.stderr).toBe('');
    expect(dryRun.status).toBe(0);
    expect(JSON.parse(dryRun.stdout)).toMatchObject({ command: 'fix db-connections', applied: false });
    expect(dryRun.stdout + dryRun.stderr).not.toContain(APP_PASSWORD);
  });
});

describe("a role's or a database's own CONNECTION LIMIT (SQLSTATE 53300 too)", () => {
  it('is SEV3 for that role, not "database refusing all connections"', async () => {
    await db.admin(`CREATE ROLE capped LOGIN PASSWORD '${APP_PASSWORD}' CONNECTION LIMIT 0`);
    const run = await runCaptured(['diagnose', 'db-connections', '-o', 'json', '--database-url', urlFor('capped', APP_PASSWORD)], { env: env() });
    const document = JSON.parse(run.stdout) as { severity: string; findings: Array<{ code: string; summary: string; resource: string }> };
    expect(document.severity).toBe('SEV3');
    expect(document.findings.map((f) => f.code)).toEqual(['AEG-2009']);
    expect(document.findings[0]?.summary).toMatch(/^the role "capped" is at its CONNECTION LIMIT on capped@127\.0\.0\.1:\d+\/\w+ \(SQLSTATE 53300\); others still connect$/);
    expect(document.findings[0]?.resource).toBe('role/capped');
    expect(run.code).toBe(3);
  });
});

describe('a database refusing the credentials during an outage', () => {
  it('errors its own check while the others still give the SEV1: exit 3, the report and not an error document', async () => {
    const cluster = await simulatedCluster('api-down');
    try {
      const argv = ['triage', '--kubeconfig', cluster.kubeconfig, '-n', 'aegis', '--database-url', urlFor('ops', 'wrong-Pass-99')];
      const json = await runCaptured([...argv, '-o', 'json'], { env: env() });
      expect(json.code).toBe(3);
      const document = JSON.parse(json.stdout) as { command: string; severity: string; error?: unknown; checks: Array<{ id: string; status: string; error: string | null }> };
      expect(document).toMatchObject({ command: 'triage', severity: 'SEV1' });
      expect(document.error).toBeUndefined();
      expect(document.checks.find((c) => c.id === 'db-connections')).toMatchObject({ status: 'errored', error: expect.stringMatching(/rejected user "ops" \(SQLSTATE 28P01/) as unknown });
      expect(document.checks.find((c) => c.id === 'pod-health')?.status).toBe('findings');
      const text = await runCaptured(argv, { env: env() });
      expect(text.code).toBe(3);
      expect(text.stdout).toMatch(/SEV1/);
      expect(text.stdout + text.stderr).toMatch(/rejected user "ops"/);
      expect(json.stdout + json.stderr + text.stdout + text.stderr).not.toContain('wrong-Pass-99');
    } finally {
      await cluster.close();
    }
  });
});
