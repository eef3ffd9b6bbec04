import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/core/errors.js';
import { startSandbox, sweepDeadDrills } from '../../src/sandbox/sandbox.js';

// A temp directory of the test's own, so no other run's drills are seen or swept.
let scratch = '';
const systemTmp = process.env.TMPDIR;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'aegis-drill-cleanup-'));
  process.env.TMPDIR = scratch;
});
afterEach(() => {
  if (systemTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = systemTmp;
  rmSync(scratch, { recursive: true, force: true });
});

function drillDir(name: string, owner: number | null): string {
  const dir = join(scratch, `aegis-ir-drill-${name}`);
  mkdirSync(join(dir, 'aegis-ir-pg-x', 'data'), { recursive: true });
  writeFileSync(join(dir, 'kubeconfig'), 'token: secret');
  if (owner !== null) writeFileSync(join(dir, 'owner.json'), JSON.stringify({ pid: owner }));
  return dir;
}

describe('drill cleanup', () => {
  it('a drill removes what a killed drill left (its recorded pid is gone), never a live or unknown one', () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    drillDir('killed', dead);
    drillDir('running', process.pid);
    drillDir('unknown', null);
    sweepDeadDrills();
    expect(readdirSync(scratch).sort()).toEqual(['aegis-ir-drill-running', 'aegis-ir-drill-unknown']);
  });

  it('cancelled while it starts, it stops what it started and leaves nothing behind', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(startSandbox('healthy', controller.signal)).rejects.toBeInstanceOf(CancelledError);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('audits remediations tried on the sandbox in its own log', async () => {
    const sandbox = await startSandbox('healthy');
    try {
      expect(sandbox.env.AEGIS_IR_AUDIT_LOG).toBe(join(sandbox.dir, 'audit.jsonl'));
    } finally {
      await sandbox.close();
    }
    expect(readdirSync(scratch)).toEqual([]);
  });
});
