import type { DbPort } from '../db/port.js';
import type { HttpPort } from '../http/port.js';
import type { KubePort } from '../kube/port.js';
import type { PrometheusPort } from '../prometheus/port.js';
import type { Config } from './config.js';
import type { IOStreams } from './io.js';

/** A replaceable clock, so tests and the sandbox can pin "now". */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Questions asked of the operator. Bound to the context's streams so tests can answer them. */
export interface Prompter {
  confirm(message: string): Promise<boolean>;
  /** Free text, e.g. typing a production namespace's name to confirm. */
  input(message: string): Promise<string>;
}

/** Diagnostics for the operator on stderr; `debug` only with --verbose. */
export interface Logger {
  debug(message: string): void;
  warn(message: string): void;
}

/** A progress indicator; a no-op when stderr is not a TTY or the output is JSON. */
export interface Progress {
  update(text: string): void;
  stop(): void;
}

/**
 * What a command runs with: resolved configuration, the operator's streams and prompts, a clock,
 * a cancellation signal and lazily connected ports to the systems it inspects. Built once per run
 * by the CLI; tests build one with a real simulator and captured streams.
 */
export interface Context {
  config: Config;
  env: Record<string, string | undefined>;
  io: IOStreams;
  clock: Clock;
  prompter: Prompter;
  logger: Logger;
  signal: AbortSignal;
  /**
   * The flags this run was pointed at its targets with, as typed (`--context prod`, `-n payments`…), so the next
   * commands it suggests run against the same targets when pasted. Absent: none given.
   */
  rerunFlags?: readonly string[];
  progress(text: string): Progress;
  /** Hides every secret this run knows in `text`; the output streams already apply it. */
  redact(text: string): string;
  /** The Kubernetes API, connected on first use. */
  kube(): Promise<KubePort>;
  /**
   * The PostgreSQL database, or null when none is configured (no `--database-url`, `DATABASE_URL`,
   * `database.url` or `PG*` location). Sessions open on `connect()` and are closed by whoever opened them.
   */
  db(): DbPort | null;
  /**
   * PgBouncer's admin console (`database.pgbouncerUrl`), or null when none is configured. Throws a
   * usage error when the URL is not one.
   */
  pgbouncer(): DbPort | null;
  /** The Prometheus HTTP API, connected on first use; rejects with a usage error when no URL is configured. */
  prometheus(): Promise<PrometheusPort>;
  /**
   * Outbound HTTP (status pages, Slack, PagerDuty): every call bounded by its deadline (default
   * `checkTimeout`) and this run's signal, its answer validated, its failures one line naming the service.
   */
  http: HttpPort;
}

/** Remembers the first call's promise so a port is connected at most once per run. */
export function once<T>(factory: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= factory());
}
