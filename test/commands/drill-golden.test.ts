import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { BufferSink } from '../../src/core/io.js';
import { listScenarios } from '../../src/sandbox/kube-simulator/index.js';
import { missingTool } from '../helpers/binary.js';
import { runCaptured } from '../helpers/cli.js';
import { kubectlMissing } from '../sandbox/simulator-helpers.js';

const run = promisify(execFile);

/**
 * Every drill's text, compared with a committed golden file: what the drill prints (`drill NAME --keep`: the triage
 * and the commands to try in another terminal), then the text of the drill's key `diagnose` run against the sandbox
 * it keeps. Regenerate after a deliberate change, then read the diff before committing it:
 *
 *   AEGIS_UPDATE_GOLDENS=1 npx vitest run test/commands/drill-golden.test.ts
 *
 * Then every command the drill tells a person to paste (those lines, the triage's Next, the diagnose's Next) is run
 * as a shell would run it, against the same sandbox: none may be a usage error (exit 2), and none may block.
 */
const UPDATE = process.env.AEGIS_UPDATE_GOLDENS === '1';
const GOLDEN_DIR = fileURLToPath(new URL('../golden/drill/', import.meta.url));

/** 3 a.m.: the sandbox and every command share this "now", so scenario times and ages read the same on every run. */
const PINNED = new Date('2026-12-01T03:00:00.000Z');
const clock = { now: () => new Date(PINNED.getTime()) };

/** The runbook section each drill plays, as `diagnose` names it; null for a drill with no issue to diagnose. */
const KEY_DIAGNOSE: Record<string, string | null> = {
  healthy: null,
  'api-down': 'api-errors',
  'crashloop-after-deploy': 'api-errors',
  'high-error-rate': 'api-errors',
  'slow-endpoint': 'api-errors',
  'cpu-saturation': 'api-errors',
  oom: 'memory',
  'memory-leak': 'memory',
  'db-connections': 'db-connections',
  'ai-provider-outage': 'ai-provider',
  'ai-rate-limits': 'ai-provider',
};

const psqlMissing: string | undefined = (() => {
  try {
    execFileSync('psql', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch (error) {
    return missingTool(`psql is not runnable (${(error as Error).message}); the drill's psql line is not run`).missing;
  }
})();

/**
 * Only what differs from run to run is replaced, each with a fixed marker:
 * - the sandbox's temporary directory (mkdtemp) in the exports it prints;
 * - 127.0.0.1 ports (every simulator listens on port 0);
 * - each check's measured duration in the Checks table (wall time, whatever the clock);
 * - this host's name in `user@host` (PostgreSQL's application_name) and the tool's own PostgreSQL backend pid.
 */
function normalise(text: string, sandboxDir: string): string {
  const host = hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text
    .replaceAll(sandboxDir, '<sandbox>')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
    .replace(/^( {2}[✓▲✖-] [a-z0-9-]+ )( *\d+(?:ms|s|m\d*s?))(?=  )/gm, (_, head: string, time: string) => `${head}${'<ms>'.padStart(time.length)}`)
    .replace(new RegExp(`@${host}\\b`, 'g'), '@<host>')
    .replace(/^( +ownPid: )\d+$/gm, '$1<pid>');
}

function compareGolden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, `${name}.txt`);
  if (UPDATE) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  let golden: string;
  try {
    golden = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no golden file ${file}: run AEGIS_UPDATE_GOLDENS=1 npx vitest run test/commands/drill-golden.test.ts`);
  }
  expect(actual, `${name} differs from ${file} (regenerate with AEGIS_UPDATE_GOLDENS=1 if the change is intended)`).toBe(golden);
}

/** A sink that tells when what was written contains a text. */
class WatchedSink extends BufferSink {
  private waiters: Array<{ text: string; resolve: () => void }> = [];
  override write(text: string): boolean {
    super.write(text);
    this.waiters = this.waiters.filter((w) => (this.text().includes(w.text) ? (w.resolve(), false) : true));
    return true;
  }
  until(text: string): Promise<void> {
    return this.text().includes(text) ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ text, resolve }));
  }
}

/** `drill NAME --keep` run in-process, as a person leaves it running in one terminal. */
interface KeptDrill {
  stdout: WatchedSink;
  /** The environment its `export` lines set, over the test's own. */
  env: Record<string, string | undefined>;
  dir: string;
  stop(): Promise<number>;
}

async function keepDrill(scenario: string, base: Record<string, string | undefined>): Promise<KeptDrill> {
  const stdout = new WatchedSink();
  const stderr = new BufferSink();
  const controller = new AbortController();
  const exited = runCli(['drill', scenario, '--keep'], {
    argv0: 'aegis-ir', env: base, stdout, stderr, stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, signal: controller.signal, clock,
  });
  await Promise.race([
    stdout.until('keeps running until Ctrl-C'),
    exited.then((code) => Promise.reject(new Error(`drill ${scenario} --keep exited ${code}:\n${stdout.text()}${stderr.text()}`))),
  ]);
  await stdout.until('aegis-ir runbook triage\n');
  const exports = Object.fromEntries([...stdout.text().matchAll(/^ {2}export (\w+)=(\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
  const dir = (exports.KUBECONFIG ?? '').replace(/\/kubeconfig$/, '');
  return {
    stdout,
    env: { ...base, ...exports },
    dir,
    stop: async () => {
      controller.abort();
      return exited;
    },
  };
}

/** The `  $ command` lines of a Next section. */
function nextSection(text: string): string[] {
  const start = text.indexOf('\nNext\n');
  if (start < 0) return [];
  const end = text.indexOf('\n\n', start + 1);
  return [...text.slice(start, end < 0 ? undefined : end).matchAll(/^ {2}\$ (.+)$/gm)].map((m) => m[1] as string);
}

/** The lines a kept drill says to paste in another terminal, exports left out (they are the environment). */
function pasteLines(text: string): string[] {
  const start = text.indexOf('In another terminal:\n');
  return text
    .slice(start)
    .split('\n')
    .slice(1)
    .filter((line) => line.startsWith('  ') && !line.startsWith('  export '))
    .map((line) => line.slice(2));
}

/**
 * The words a shell makes of an `aegis-ir …` line (quotes, `$VARIABLES`, `# comments`), by letting bash parse it
 * with `aegis-ir` as a function that prints its arguments: a line bash cannot run as pasted fails here.
 */
async function shellWords(line: string, env: Record<string, string | undefined>): Promise<string[]> {
  const { stdout } = await run('bash', ['-c', `aegis-ir() { printf '%s\\0' "$@"; }\n${line}`], { env: env as NodeJS.ProcessEnv });
  return stdout.split('\0').slice(0, -1);
}

describe.each(listScenarios())('drill %s', (scenario) => {
  let drill: KeptDrill;
  const state = mkdtempSync(join(tmpdir(), 'aegis-golden-'));
  const base = { HOME: '/nonexistent', USER: 'oncall', XDG_STATE_HOME: state, PATH: process.env.PATH };
  const section = KEY_DIAGNOSE[scenario];
  let diagnose = '';

  beforeAll(async () => {
    drill = await keepDrill(scenario, base);
  });
  afterAll(async () => {
    const code = await drill?.stop();
    rmSync(state, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('names its key diagnose section', () => {
    expect(section, `add ${scenario} to KEY_DIAGNOSE`).not.toBeUndefined();
  });

  it("prints its golden text", () => {
    compareGolden(scenario, normalise(drill.stdout.text(), drill.dir));
  });

  if (section) {
    it(`diagnose ${section} prints its golden text`, async () => {
      const result = await runCaptured(['diagnose', section], { env: drill.env, clock });
      expect(result.stderr).toBe('');
      diagnose = result.stdout;
      compareGolden(`${scenario}.diagnose-${section}`, normalise(diagnose, drill.dir));
    });
  }

  it('every command it says to paste runs as printed, without a usage error', async () => {
    const lines = [...new Set([...nextSection(drill.stdout.text()), ...pasteLines(drill.stdout.text()), ...nextSection(diagnose)])];
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) {
      if (line.startsWith('aegis-ir ')) {
        const argv = await shellWords(line, drill.env);
        const result = await runCaptured(argv, { env: drill.env, clock });
        expect({ line, code: result.code, stderr: result.stderr }).not.toMatchObject({ code: 2 });
        expect(result.stderr, line).not.toMatch(/unknown option|too many arguments|error: /);
        continue;
      }
      const tool = line.split(' ')[0] as string;
      expect(['kubectl', 'psql'], line).toContain(tool);
      const missing = tool === 'kubectl' ? kubectlMissing : psqlMissing;
      if (missing !== undefined) continue;
      // As pasted in a terminal: through the shell, with the exports; a command that waits for the incident to end
      // (a watch) is killed by the timeout and fails here.
      const result = await run('bash', ['-c', line], { env: { ...drill.env, HOME: state } as NodeJS.ProcessEnv, timeout: 20_000 }).then(
        () => ({ code: 0, stderr: '', killed: false }),
        (error: { code: number; stderr: string; killed?: boolean }) => ({ code: error.code, stderr: error.stderr, killed: Boolean(error.killed) }),
      );
      expect({ line, ...result }).toMatchObject({ code: 0, killed: false });
    }
  });
});
