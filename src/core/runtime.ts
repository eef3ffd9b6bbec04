import type { KubePort, KubeTarget } from '../kube/port.js';
import type { Clock, Prompter } from './context.js';
import type { TextSink } from './io.js';
import type { Redactor } from './redact.js';

/**
 * Everything the CLI takes from the process it runs in. `main.ts` builds the real one from `process`;
 * tests build one with captured streams, a scripted prompter and a pinned clock, and run the whole
 * CLI in-process.
 */
export interface Runtime {
  argv0: string;
  env: Record<string, string | undefined>;
  stdout: TextSink;
  stderr: TextSink;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** The terminal's width when stdout is one. */
  stdoutColumns?: number;
  /** The terminal's width when stderr is one (0 under `script` and some CI runners): no spinner then. */
  stderrColumns?: number;
  signal: AbortSignal;
  clock?: Clock;
  /** Prompts bound to the operator's terminal; absent means nobody can answer. */
  prompter?: Prompter;
  /** This run's redaction; the CLI creates it and every output and audit record passes through it. */
  redactor?: Redactor;
  /** Overrides how the Kubernetes port is connected (defaults to `@kubernetes/client-node`). */
  connectKube?: (target: KubeTarget, env: Record<string, string | undefined>) => Promise<KubePort>;
}

/** Options commander hands to every action: the globals plus the command's own. */
export interface GlobalOptions {
  config?: string;
  color?: boolean;
  verbose?: boolean;
  yes?: boolean;
  [key: string]: unknown;
}
