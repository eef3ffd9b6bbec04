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
    env: { HOME: '/nonexistent' },
    stdout,
    stderr,
    stdinIsTTY: false,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    signal: new AbortController().signal,
    ...overrides,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
