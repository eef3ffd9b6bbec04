import type { Prompter } from './core/context.js';
import { CancelledError, ExitCode } from './core/errors.js';
import { fixedText } from './help-table.js';

/**
 * The only module that touches `process`: it reads argv and the environment, wires signals to the
 * cancellation signal, runs the CLI and sets the exit code.
 */
async function main(): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(ExitCode.cancelled);
    controller.abort();
  });
  // A closed terminal or a stop request ends the run the same way, so a drill still cleans up.
  process.on('SIGTERM', () => controller.abort());
  process.on('SIGHUP', () => controller.abort());
  // `aegis-ir drill | head -1`: a reader that went away ends the run quietly, with the same cleanup.
  let readerGone = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    readerGone = true;
    controller.abort();
  });
  const argv = process.argv.slice(2);
  // `--help` and `--version` print text the build wrote beside the bundle, without loading the CLI.
  const fixed = fixedText(argv, process.stdout, new URL('./help.json', import.meta.url));
  if (fixed !== undefined) process.stdout.write(fixed);
  const code = fixed !== undefined ? ExitCode.ok : await (await import('./cli.js')).runCli(argv, {
    argv0: 'aegis-ir',
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    stdoutColumns: process.stdout.isTTY ? process.stdout.columns : undefined,
    stderrColumns: process.stderr.isTTY ? process.stderr.columns : undefined,
    signal: controller.signal,
    prompter: process.stdin.isTTY ? terminalPrompter(controller.signal) : undefined,
  });
  // Let stdout drain before exiting, so piped JSON is never cut short (unless nobody reads it any more).
  if (readerGone) process.exit(code);
  else process.stdout.write('', () => process.exit(code));
}

/** Inquirer prompts on the terminal, written to stderr so stdout stays data. */
function terminalPrompter(signal: AbortSignal): Prompter {
  const context = { input: process.stdin, output: process.stderr, signal };
  const cancelled = (error: unknown): never => {
    const name = (error as Error)?.name;
    if (name === 'ExitPromptError' || name === 'AbortPromptError') throw new CancelledError();
    throw error;
  };
  return {
    confirm: async (message) => {
      const { confirm } = await import('@inquirer/prompts');
      return confirm({ message, default: false }, context).catch(cancelled);
    },
    input: async (message) => {
      const { input } = await import('@inquirer/prompts');
      // No green tick once typed: whether the name was right is decided after, and a wrong one cancels.
      return input({ message, theme: { prefix: { idle: '?', done: '›' } } }, context).catch(cancelled);
    },
  };
}

void main();
