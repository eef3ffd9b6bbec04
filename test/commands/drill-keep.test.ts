import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
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
