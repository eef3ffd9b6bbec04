import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCaptured } from '../helpers/cli.js';

const CLI = fileURLToPath(new URL('../../dist/aegis-ir.js', import.meta.url));
const built = existsSync(CLI);
if (!built) console.warn('skipping the drill --keep test: dist/aegis-ir.js is not built (npm test builds it first)');

describe('drill --keep, as a person runs it from the built CLI', () => {
  it.skipIf(!built)('keeps the sandbox up for other commands until Ctrl-C, then removes it and exits 0', async () => {
    const child = spawn(process.execPath, [CLI, 'drill', 'oom', '--keep'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the sandbox never said it was ready:\n${out}`)), 20_000);
      child.stdout.on('data', () => {
        if (out.includes('Ctrl-C')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const kubeconfig = /export KUBECONFIG=(\S+)/.exec(out)?.[1] as string;
    // Another terminal: the same triage, against the sandbox the drill left running.
    const other = await runCaptured(['triage', '--kubeconfig', kubeconfig, '-o', 'json']);
    expect(JSON.parse(other.stdout)).toMatchObject({ severity: 'SEV3' });
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(kubeconfig)).toBe(false);
  });
});

describe('Ctrl-C during triage', () => {
  it.skipIf(!built)('stops at once with exit 130 and prints no report', async () => {
    // The drill's own triage gives up on the hung command after a second; the triage under test waits.
    const config = join(mkdtempSync(join(tmpdir(), 'aegis-hung-')), 'config.yaml');
    writeFileSync(config, 'checkTimeout: 1s\n');
    const scenario = fileURLToPath(new URL('../fixtures/scenarios/hung-health.yaml', import.meta.url));
    const drill = spawn(process.execPath, [CLI, 'drill', scenario, '--keep', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    drill.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const drillExited = new Promise<number | null>((resolve) => drill.on('exit', (code) => resolve(code)));
    try {
      await until(() => out.includes('Ctrl-C'), 60_000, () => out);
      const kubeconfig = /export KUBECONFIG=(\S+)/.exec(out)?.[1] as string;
      // -v: each check says on stderr when it is done, so the test knows the run is under way.
      const triage = spawn(process.execPath, [CLI, 'triage', '--kubeconfig', kubeconfig, '-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      triage.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      triage.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise<number | null>((resolve) => triage.on('exit', (code) => resolve(code)));
      // Interrupt once another check has finished: the hung health command is then under way, and triage cannot end
      // before it does.
      await until(() => /^debug: check pod-health: /m.test(stderr), 60_000, () => stderr);
      triage.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stdout).toBe('');
      expect(stderr).toContain('aegis-ir: cancelled; nothing was changed');
    } finally {
      drill.kill('SIGINT');
      await drillExited;
    }
  });
});

async function until(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting; output so far:\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
