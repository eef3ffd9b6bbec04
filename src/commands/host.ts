import type { Command } from 'commander';
import { buildContext, optionsOf } from '../core/app.js';
import type { Overrides } from '../core/config.js';
import type { Context } from '../core/context.js';
import type { Runtime } from '../core/runtime.js';

/**
 * What every command module gets from the CLI: the runtime, a way to build its context from the
 * parsed flags, and a place to leave its exit code (commands return codes; only main exits).
 */
export interface CommandHost {
  runtime: Runtime;
  context(command: Command, extraFlags?: Overrides): Context;
  exit(code: number): void;
}

export function makeHost(runtime: Runtime, setExit: (code: number) => void): CommandHost {
  return {
    runtime,
    context: (command, extraFlags) => buildContext(runtime, optionsOf(command), extraFlags),
    exit: setExit,
  };
}

/** Help text listing examples, appended to a command's --help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
