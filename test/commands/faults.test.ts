import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/sandbox/kube-simulator/time.js';
import { startKubeSimulator, type KubeSimulator } from '../../src/sandbox/kube-simulator/index.js';
import { DEPLOYMENT, LEASE, POD } from '../../src/sandbox/kube-simulator/resources.js';
import { startScenarioPrometheus } from '../../src/sandbox/prometheus-simulator/sandbox.js';
import type { PrometheusSimulator } from '../../src/sandbox/prometheus-simulator/server.js';
import { runCaptured, type CliRun } from '../helpers/cli.js';
import { startFaultProxy, type Fault, type FaultProxy } from '../helpers/fault-proxy.js';

/**
 * Every command against every transport fault, through a fault-injecting proxy in front of the simulators: the exit
 * code, the one-line message, exactly one JSON document, nothing changed and nothing leaked. The commands run
 * in-process and the simulators are shared, so the whole table stays within a few seconds beyond its deadlines.
 */

const KUBE_TOKEN = 'fault-Kube-Token-7d1c';
const PROMETHEUS_TOKEN = 'fault-Prom-Token-93ab';
/** Deadlines of the runs that meet a hang or a slow drip; the others answer at once. */
const SHORT = '1s';

// A temp directory of the file's own: a run must leave nothing in it.
const systemTmp = process.env.TMPDIR;
const files = mkdtempSync(join(tmpdir(), 'aegis-faults-'));
const scratch = mkdtempSync(join(tmpdir(), 'aegis-faults-tmp-'));
beforeAll(() => {
  process.env.TMPDIR = scratch;
});
afterAll(() => {
  if (systemTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = systemTmp;
  rmSync(files, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

const env = () => ({ HOME: '/nonexistent', AEGIS_IR_AUDIT_LOG: join(files, 'audit.jsonl'), AEGIS_IR_PROMETHEUS_TOKEN: PROMETHEUS_TOKEN });

/** A kubeconfig for `server` with a bearer token, which must never be printed. */
function kubeconfigFor(server: string, name: string): string {
  const path = join(files, name);
  writeFileSync(
    path,
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: ${KUBE_TOKEN}}}]\n` +
      'contexts: [{name: x, context: {cluster: c, user: u, namespace: aegis}}]\ncurrent-context: x\n',
    { mode: 0o600 },
  );
  return path;
}

/** What a fix could have changed: the deployments' specs, the pods, and any lock left behind. */
function state(sim: KubeSimulator): string {
  return JSON.stringify({
    deployments: sim.store.list(DEPLOYMENT, 'aegis').map((d) => (d as { spec?: unknown }).spec),
    pods: sim.store.list(POD, 'aegis').map((p) => p.metadata.name).sort(),
    leases: sim.store.list(LEASE, 'aegis').length,
  });
}

/** The run's single JSON document (parsing fails on none or two), its messages one line each, no secret in any of it. */
function checked(run: CliRun): Record<string, unknown> {
  const printed = run.stdout + run.stderr;
  expect(printed).not.toContain(KUBE_TOKEN);
  expect(printed).not.toContain(PROMETHEUS_TOKEN);
  // No stack trace, JavaScript error name or HTTP dump.
  expect(printed).not.toMatch(/\n\s+at |TypeError|SyntaxError|HTTP-Code|Headers:|Body:/);
  for (const line of run.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^(aegis-ir: |  try: |--yes: )/);
  expect(readdirSync(scratch)).toEqual([]);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

type Errored = { id: string; status: string; error: string | null };
const erroredChecks = (document: Record<string, unknown>) => (document.checks as Errored[]).filter((c) => c.status === 'errored');

interface KubeRow {
  name: string;
  fault: Fault;
  /** What the commands say: for a read of the pods (triage, diagnose) and a read of the deployment (fix). */
  says: { read: RegExp; fix: RegExp };
  /** Whether the runs meet a deadline (a short --timeout keeps the table quick). */
  slow?: boolean;
}

const KUBE_FAULTS: KubeRow[] = [
  { name: '500', fault: { kind: 'status', status: 500 }, says: { read: /failed to list pods \(500: injected fault\)/, fix: /failed to get deployment\/aegis-api \(500: injected fault\)/ } },
  { name: '401', fault: { kind: 'status', status: 401 }, says: { read: /refused access to list pods \(401 Unauthorized\)/, fix: /refused access to get deployment\/aegis-api \(401 Unauthorized\)/ } },
  { name: '403', fault: { kind: 'status', status: 403 }, says: { read: /refused access to list pods \(403 Forbidden\)/, fix: /refused access to get deployment\/aegis-api \(403 Forbidden\)/ } },
  { name: 'hang', fault: { kind: 'hang' }, slow: true, says: { read: /the run's 1s deadline \(--timeout\) passed/, fix: /^the cluster did not answer within 1s \(--timeout\)$/ } },
  { name: 'slow drip', fault: { kind: 'drip', everyMs: 50 }, slow: true, says: { read: /the run's 1s deadline \(--timeout\) passed/, fix: /^the cluster did not answer within 1s \(--timeout\)$/ } },
  { name: 'reset', fault: { kind: 'reset' }, says: { read: /cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ \(connection reset\)/, fix: /cannot reach the Kubernetes API at .* \(connection reset\)/ } },
  { name: 'truncated', fault: { kind: 'truncate' }, says: { read: /closed the connection mid-response to list pods/, fix: /closed the connection mid-response to get deployment\/aegis-api/ } },
  { name: 'HTML', fault: { kind: 'html' }, says: { read: /answered list pods with an HTML page \(HTTP 200\), not the Kubernetes API/, fix: /answered get deployment\/aegis-api with an HTML page \(HTTP 200\), not the Kubernetes API/ } },
];

describe('the Kubernetes API behind a faulty proxy', () => {
  let sim: KubeSimulator;
  beforeAll(async () => {
    sim = await startKubeSimulator({ scenario: 'healthy' });
    // Unfaulted, through a proxy too: what every row departs from (and the modules loaded before the deadlines start).
    const proxy = await startFaultProxy(sim.url, []);
    const run = await runCaptured(['triage', '--kubeconfig', kubeconfigFor(proxy.url, 'baseline'), '-o', 'json'], { env: env() });
    await proxy.close();
    expect(run.code).toBe(0);
    expect(erroredChecks(checked(run))).toEqual([]);
  });
  afterAll(() => sim?.close());

  describe.each(KUBE_FAULTS)('$name', (row) => {
    const timeout = row.slow ? SHORT : '20s';
    const through = async (match: RegExp, argv: string[]): Promise<{ run: CliRun; proxy: FaultProxy }> => {
      const proxy = await startFaultProxy(sim.url, [{ match, fault: row.fault }]);
      try {
        const kubeconfig = kubeconfigFor(proxy.url, `kubeconfig-${row.name}`);
        const run = await runCaptured([...argv, '--kubeconfig', kubeconfig, '--timeout', timeout, '-o', 'json'], { env: env() });
        expect(proxy.faulted.length).toBeGreaterThan(0);
        return { run, proxy };
      } finally {
        await proxy.close();
      }
    };

    it.each([['triage'], ['diagnose', 'api-errors']])('%s: the checks that read the pods are errored, exit 4, the report', async (...argv) => {
      const before = state(sim);
      const { run } = await through(/^GET .*\/pods$/, argv);
      expect(run.code).toBe(4);
      const document = checked(run);
      expect(document.command).toBe(argv.join(' '));
      expect(document.error).toBeUndefined();
      const errored = erroredChecks(document);
      expect(errored.length).toBeGreaterThan(0);
      for (const check of errored) expect(check.error).toMatch(row.says.read);
      expect(run.stderr.split('\n')[0]).toMatch(new RegExp(`^aegis-ir: verdict incomplete: cluster unreachable \\(.*${row.says.read.source}`));
      expect(state(sim)).toBe(before);
    });

    it.each([['--dry-run'], ['--yes']])('fix scale %s: exit 4, one error document, nothing changed', async (mode) => {
      const before = state(sim);
      const { run } = await through(/\/deployments\//, ['fix', 'scale', '--by', '1', mode]);
      expect(run.code).toBe(4);
      const document = checked(run) as { command: string; error: { exitCode: number; message: string; hint: string | null } };
      expect(document.command).toBe('fix scale');
      expect(document.error.exitCode).toBe(4);
      expect(document.error.message).toMatch(row.says.fix);
      expect(document.error.hint).toEqual(expect.any(String));
      expect(run.stderr.split('\n')[0]).toBe(`aegis-ir: ${document.error.message}`);
      expect(state(sim)).toBe(before);
    });
  });

  it('429 with Retry-After is waited out as the server asks: every command then does its work', async () => {
    const fault: Fault = { kind: 'throttle', retryAfter: 1, times: 1 };
    const run = async (match: RegExp, argv: string[]) => {
      const proxy = await startFaultProxy(sim.url, [{ match, fault }]);
      try {
        const result = await runCaptured([...argv, '--kubeconfig', kubeconfigFor(proxy.url, 'kubeconfig-429'), '-o', 'json'], { env: env() });
        expect(proxy.faulted).toHaveLength(1);
        return result;
      } finally {
        await proxy.close();
      }
    };
    for (const argv of [['triage'], ['diagnose', 'api-errors']]) {
      const read = await run(/^GET .*\/pods$/, argv);
      expect(read.code).toBe(0);
      expect(erroredChecks(checked(read))).toEqual([]);
    }
    const before = sim.store.list(DEPLOYMENT, 'aegis').map((d) => (d as { spec?: { replicas?: number } }).spec?.replicas);
    const dryRun = await run(/\/deployments\//, ['fix', 'scale', '--by', '1', '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(checked(dryRun)).toMatchObject({ command: 'fix scale', applied: false });
    const applied = await run(/\/deployments\//, ['fix', 'scale', '--by', '1', '--yes', '--rollout-timeout', '20s']);
    expect(applied.code).toBe(0);
    expect(checked(applied)).toMatchObject({ command: 'fix scale', applied: true });
    expect(sim.store.list(DEPLOYMENT, 'aegis').map((d) => (d as { spec?: { replicas?: number } }).spec?.replicas)).toEqual(before.map((n) => (n ?? 1) + 1));
    expect(sim.store.list(LEASE, 'aegis')).toEqual([]);
  });
});

interface PrometheusRow {
  name: string;
  fault: Fault;
  says: RegExp;
}

/** The checks that read Prometheus: the status pages are read when its health gauge says the AI provider is down. */
const PROMETHEUS_CHECKS = ['error-rate', 'latency', 'component-health', 'status-page-anthropic', 'status-page-openai'];

const PROMETHEUS_FAULTS: PrometheusRow[] = [
  { name: '500', fault: { kind: 'status', status: 500 }, says: /^Prometheus at http:\/\/127\.0\.0\.1:\d+ answered 500 Internal Server Error$/ },
  { name: '429 with Retry-After', fault: { kind: 'throttle', retryAfter: 30, times: 1000 }, says: /is limiting requests \(429 Too Many Requests, retry after 30s\)$/ },
  { name: '401', fault: { kind: 'status', status: 401 }, says: /refused access \(401 Unauthorized\)$/ },
  { name: '403', fault: { kind: 'status', status: 403 }, says: /refused access \(403 Forbidden\)$/ },
  { name: 'hang', fault: { kind: 'hang' }, says: /^Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer within 1s$/ },
  { name: 'slow drip', fault: { kind: 'drip', everyMs: 50 }, says: /^Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer within 1s$/ },
  { name: 'reset', fault: { kind: 'reset' }, says: /^cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+ \(connection reset\)$/ },
  { name: 'truncated', fault: { kind: 'truncate' }, says: /^Prometheus at http:\/\/127\.0\.0\.1:\d+ closed the connection mid-response$/ },
  { name: 'HTML', fault: { kind: 'html' }, says: /answered 200 with an HTML page, not the API's JSON \(a login page, a proxy or the wrong URL\)$/ },
];

describe('Prometheus behind a faulty proxy', () => {
  let sim: KubeSimulator;
  let prometheus: PrometheusSimulator;
  let kubeconfig: string;
  let config: string;
  beforeAll(async () => {
    sim = await startKubeSimulator({ scenario: 'high-error-rate' });
    const started = await startScenarioPrometheus(sim.scenario, sim, systemClock);
    if (!started) throw new Error('the high-error-rate scenario has Prometheus');
    prometheus = started;
    kubeconfig = kubeconfigFor(sim.url, 'kubeconfig-prometheus');
    // Each query's own deadline, so that a hang or a drip ends the Prometheus checks only.
    config = join(files, 'config.yaml');
    writeFileSync(config, `prometheus:\n  requestTimeout: ${SHORT}\n`);
  });
  afterAll(async () => {
    await prometheus?.close();
    await sim?.close();
  });

  it.each(PROMETHEUS_FAULTS)('$name: the Prometheus checks are errored in one line, the cluster checks still give their verdict (exit 3)', async (row) => {
    const proxy = await startFaultProxy(prometheus.url, [{ match: /\/api\/v1\//, fault: row.fault }]);
    try {
      const run = await runCaptured(['triage', '--config', config, '--kubeconfig', kubeconfig, '--prometheus-url', proxy.url, '-o', 'json'], { env: env() });
      expect(proxy.faulted.length).toBeGreaterThan(0);
      const document = checked(run);
      expect(document).toMatchObject({ command: 'triage', severity: expect.stringMatching(/^SEV[1-4]$/) as unknown });
      expect(run.code).toBe(3);
      const errored = erroredChecks(document);
      expect(errored.map((c) => c.id).sort()).toEqual([...PROMETHEUS_CHECKS].sort());
      for (const check of errored) expect(check.error, check.id).toMatch(row.says);
    } finally {
      await proxy.close();
    }
  });
});
