import type { Command } from 'commander';
import type { Overrides } from '../core/config.js';
import type { Context } from '../core/context.js';
import type { GlobalOptions, Runtime } from '../core/runtime.js';

/**
 * What every command module gets from the CLI: the runtime, a way to build its context from the
 * parsed flags, and a place to leave its exit code (commands return codes; only main exits).
 */
export interface CommandHost {
  runtime: Runtime;
  /** Loads the configuration (flags > environment > file > defaults) and builds the command's context. */
  context(command: Command, extraFlags?: Overrides): Promise<Context>;
  exit(code: number): void;
}

export function makeHost(runtime: Runtime, setExit: (code: number) => void): CommandHost {
  return {
    runtime,
    // Configuration and its validation load with the first command that needs them, not at start-up.
    context: async (command, extraFlags) => (await import('../core/app.js')).buildContext(runtime, optionsOf(command), extraFlags),
    exit: setExit,
  };
}

/** The width help text reads at, as gh's does: commander wraps the options to it, the prose after them is reflowed to it. */
export const HELP_WIDTH = 80;

/** Help text listing examples, appended to a command's --help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

/** The options of a commander action, globals included. */
export function optionsOf(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}
