import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

const CLI = fileURLToPath(new URL('../../dist/aegis-ir.js', import.meta.url));

/** Every file below `dir`, as paths relative to it. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

describe('a drill killed outright while its PostgreSQL initialises', () => {
  it.runIf(existsSync(CLI))('leaves the password file of initdb in its own directory, which the next drill sweeps', async () => {
    const passwordFileSeen = () => filesBelow(scratch).some((file) => /(^|\/)pg-password-/.test(file));
    // The kill must land while initdb runs; a drill that got past it unseen (a starved poll) is played again.
    let killedDuringInitdb = false;
    for (let attempt = 1; attempt <= 3 && !killedDuringInitdb; attempt += 1) {
      // Its own process group, so that SIGKILL takes initdb with it, as closing a terminal would.
      const drill = spawn(process.execPath, [CLI, 'drill', 'db-connections'], {
        env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', TMPDIR: scratch },
        stdio: 'ignore',
        detached: true,
      });
      let running = true;
      const exited = new Promise<void>((resolve) => drill.on('exit', () => ((running = false), resolve())));
      // initdb runs while its password file exists: that is the moment to kill the drill.
      await expect.poll(() => passwordFileSeen() || !running, { timeout: 60_000, interval: 5 }).toBe(true);
      killedDuringInitdb = running && passwordFileSeen();
      if (running) process.kill(-(drill.pid ?? 0), 'SIGKILL');
      await exited;
      if (!killedDuringInitdb) sweepDeadDrills();
    }
    expect(killedDuringInitdb).toBe(true);
    const [own, ...others] = readdirSync(scratch);
    expect(others).toEqual([]);
    expect(own).toMatch(/^aegis-ir-drill-db-connections-/);
    expect(filesBelow(join(scratch, own ?? '')).some((file) => /pg-password-/.test(file))).toBe(true);
    sweepDeadDrills();
    expect(readdirSync(scratch)).toEqual([]);
  }, 180_000);
});
