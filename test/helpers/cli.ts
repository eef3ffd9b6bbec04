import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli.js';
import { BufferSink } from '../../src/core/io.js';
import type { Runtime } from '../../src/core/runtime.js';

/** What one in-process run of the CLI printed, and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `aegis-ir <argv>` in-process as a script would: no terminal, no prompter, and a HOME without a config file, so
 * nothing from the machine running the tests leaks in. `overrides` replaces any part of the runtime (env, connectKube…).
 */
export async function runCaptured(argv: string[], overrides: Partial<Runtime> = {}): Promise<CliRun> {
  const stdout = new BufferSink();
  const stderr = new BufferSink();
  const code = await runCli(argv, {
    argv0: 'aegis-ir',
    stdout,
    stderr,
    stdinIsTTY: false,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    signal: new AbortController().signal,
    ...overrides,
    env: withStateHome(overrides.env ?? { HOME: '/nonexistent' }),
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

let stateHome: string | undefined;

/**
 * Every command journals what it did: a run given no state directory and no journal of its own writes to
 * one of this test file's, never to the machine's.
 */
function withStateHome(env: Record<string, string | undefined>): Record<string, string | undefined> {
  if (env.XDG_STATE_HOME || env.AEGIS_IR_AUDIT_LOG) return env;
  stateHome ??= mkdtempSync(join(tmpdir(), 'aegis-state-'));
  return { ...env, XDG_STATE_HOME: stateHome };
}
