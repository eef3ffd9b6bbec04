import { BufferSink, type IOStreams } from '../../src/core/io.js';
import type { Context } from '../../src/core/context.js';
import { createHttpPort } from '../../src/http/client.js';
import type { KubePort } from '../../src/kube/port.js';
import type { PrometheusPort } from '../../src/prometheus/port.js';
import { testConfig } from './config.js';

/** A context with captured streams and no terminal, for running checks directly. */
export function testContext(overrides: Partial<Context> = {}): Context & { out: BufferSink; err: BufferSink } {
  const signal = overrides.signal ?? new AbortController().signal;
  const clock = overrides.clock ?? { now: () => new Date('2026-11-26T12:00:00Z') };
  const out = new BufferSink();
  const err = new BufferSink();
  const io: IOStreams = { stdout: out, stderr: err, stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color: false };
  return {
    config: testConfig(),
    env: {},
    io,
    clock,
    prompter: {
      confirm: () => Promise.reject(new Error('no prompt expected')),
      input: () => Promise.reject(new Error('no prompt expected')),
    },
    logger: { debug: () => undefined, warn: (m) => err.write(`warning: ${m}\n`) },
    signal,
    progress: () => ({ update: () => undefined, stop: () => undefined }),
    redact: (text) => text,
    kube: () => Promise.reject(new Error('no cluster in this test')) as Promise<KubePort>,
    db: () => null,
    pgbouncer: () => null,
    prometheus: () => Promise.reject(new Error('no Prometheus in this test')) as Promise<PrometheusPort>,
    http: createHttpPort({ signal, timeoutMs: 5_000, clock }),
    ...overrides,
    out,
    err,
  };
}
