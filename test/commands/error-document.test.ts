import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startKubeSimulator, type KubeSimulator } from '../../src/sandbox/kube-simulator/index.js';
import { LEASE } from '../../src/sandbox/kube-simulator/resources.js';
import { runCaptured, type CliRun } from '../helpers/cli.js';
import { scenarioWith } from '../sandbox/simulator-helpers.js';

interface ErrorDocument {
  schemaVersion: number;
  command: string;
  error: { exitCode: number; message: string; hint: string | null };
}

/** The run printed exactly one JSON document on stdout (JSON.parse refuses two), and it is SPEC's error document. */
function errorOf(run: CliRun): ErrorDocument {
  const document = JSON.parse(run.stdout) as ErrorDocument;
  expect(document).toMatchObject({ schemaVersion: 1, error: { exitCode: run.code } });
  return document;
}

let sim: KubeSimulator | undefined;
let dir = '';
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function cluster(scenario: Parameters<typeof startKubeSimulator>[0]['scenario']): Promise<string> {
  sim = await startKubeSimulator({ scenario });
  dir = mkdtempSync(join(tmpdir(), 'aegis-error-doc-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig);
  return kubeconfig;
}

describe('-o json prints one document on every exit', () => {
  it('a flag commander does not know: exit 2', async () => {
    const run = await runCaptured(['triage', '--bogus', '-o', 'json']);
    expect(run.code).toBe(2);
    expect(errorOf(run)).toEqual({
      schemaVersion: 1,
      command: 'triage',
      error: { exitCode: 2, message: "unknown option '--bogus'", hint: 'aegis-ir triage --help' },
    });
  });

  it('a bad value for a setting, with the format from the environment: exit 2', async () => {
    const run = await runCaptured(['fix', 'scale', '--by', '1', '--timeout', 'soon'], { env: { HOME: '/nonexistent', AEGIS_IR_OUTPUT: 'json' } });
    expect(run.code).toBe(2);
    const document = errorOf(run);
    expect(document.command).toBe('fix scale');
    expect(document.error.message).toContain('timeout');
  });

  it('a lock held by another operator: exit 5, naming the holder', async () => {
    const lease = { name: 'aegis-ir-fix-deployment-aegis-api', holder: 'alice@laptop', acquiredAt: new Date().toISOString(), durationSeconds: 600 };
    const kubeconfig = await cluster(scenarioWith('oom', { leases: [lease] }));
    const run = await runCaptured(['fix', 'scale', '--by', '1', '--yes', '-o', 'json', '--kubeconfig', kubeconfig], { env: { HOME: dir } });
    expect(run.code).toBe(5);
    expect(errorOf(run).error.message).toContain('lock held by alice@laptop');
  });

  it('Lease creation forbidden is found by the preflight: exit 5 before any lock is tried', async () => {
    const kubeconfig = await cluster(
      scenarioWith('oom', { rbac: { deny: [{ verb: 'create', resource: 'leases', group: 'coordination.k8s.io', subresource: '' }] } }),
    );
    const run = await runCaptured(['fix', 'scale', '--by', '1', '--yes', '-o', 'json', '--kubeconfig', kubeconfig], { env: { HOME: dir } });
    expect(run.code).toBe(5);
    expect(errorOf(run).error.message).toContain('not allowed to create leases.coordination.k8s.io');
    expect(sim?.store.list(LEASE, 'aegis')).toEqual([]);
  });

  it('an unreachable cluster: exit 4', async () => {
    const port = await closedPort();
    dir = mkdtempSync(join(tmpdir(), 'aegis-error-doc-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\n` +
        'users: [{name: u, user: {token: t0ken}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    const run = await runCaptured(['fix', 'rollback', '--dry-run', '-o', 'json', '--kubeconfig', kubeconfig], { env: { HOME: dir } });
    expect(run.code).toBe(4);
    expect(errorOf(run).error.message).toContain('cannot reach the Kubernetes API');
  });

  it('a bug: exit 1, with the hint to report it', async () => {
    const run = await runCaptured(['fix', 'scale', '--by', '1', '--dry-run', '-o', 'json'], {
      connectKube: () => Promise.reject(new TypeError('Cannot read properties of undefined')),
    });
    expect(run.code).toBe(1);
    expect(errorOf(run).error).toMatchObject({ message: 'internal error: Cannot read properties of undefined', hint: expect.stringContaining('AEGIS_IR_DEBUG=1') });
  });
});

/** A port nothing listens on: bound, then closed. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
