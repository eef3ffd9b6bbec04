import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseSectionSchema, startDrillDatabase, type DrillDatabase } from '../../src/sandbox/postgres.js';
import { runCaptured } from '../helpers/cli.js';

let drill: DrillDatabase;
let env: Record<string, string>;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-drill-db-'));
  drill = await startDrillDatabase(databaseSectionSchema.parse({ maxConnections: 40, idleShare: 0.9 }), dir);
  env = { HOME: '/nonexistent', AEGIS_IR_AUDIT_LOG: '/tmp/aegis-ir-drill-test-audit.jsonl', ...drill.env };
  // The drill lowers the idle threshold to 5s; its sessions must have been idle that long.
  await new Promise((r) => setTimeout(r, 5_200));
});

afterAll(async () => {
  await drill?.close();
});

describe('the db-connections drill database', () => {
  it('keeps the password out of what it prints: the URL has none, a 0600 password file holds it', () => {
    expect(drill.env.DATABASE_URL).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/aegis$/);
    expect(drill.env).not.toHaveProperty('PGPASSWORD');
    const line = readFileSync(drill.env.PGPASSFILE as string, 'utf8');
    expect(line).toMatch(/^127\.0\.0\.1:\d+:\*:postgres:sandbox-/);
  });

  it('is saturated for diagnose, relieved by fix, and diagnose agrees afterwards', async () => {
    const before = await runCaptured(['diagnose', 'db-connections', '-o', 'json'], { env });
    expect(JSON.parse(before.stdout)).toMatchObject({ severity: 'SEV3' });
    const fixed = await runCaptured(['fix', 'db-connections', '--yes', '-o', 'json'], { env });
    expect(fixed.code).toBe(0);
    const document = JSON.parse(fixed.stdout) as { plan: { size: number }; result: { steps: Array<{ status: string }> } };
    expect(document.plan.size).toBeGreaterThanOrEqual(30);
    expect(document.result.steps.every((s) => s.status === 'done')).toBe(true);
    const after = await runCaptured(['diagnose', 'db-connections', '-o', 'json'], { env });
    expect(JSON.parse(after.stdout)).toMatchObject({ severity: null });
    expect(after.code).toBe(0);
  });
});
