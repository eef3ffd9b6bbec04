import { createServer, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runCaptured } from '../helpers/cli.js';
import { simulatedCluster, type SimulatedCluster } from '../helpers/simulator.js';
import { startKubeSimulator } from '../../src/sandbox/kube-simulator/index.js';

/** An impact item has its value and evidence, or null and why: never a value without where it came from. */
const impactItem = z.union([
  z.strictObject({ value: z.unknown().refine((v) => v !== null), evidence: z.array(z.string()).min(1), why: z.null() }),
  z.strictObject({ value: z.null(), evidence: z.array(z.string()).length(0), why: z.string().min(1) }),
]);

/** SPEC's JSON document, checked strictly so a renamed or missing field fails the suite. */
const documentSchema = z.strictObject({
  schemaVersion: z.literal(1),
  command: z.string(),
  severity: z.enum(['SEV1', 'SEV2', 'SEV3', 'SEV4']).nullable(),
  severityReason: z.string().min(1),
  responseTime: z.string().nullable(),
  escalation: z.array(z.strictObject({ after: z.string(), to: z.string() })),
  findings: z.array(
    z.strictObject({
      code: z.string().regex(/^AEG-\d{4}$/),
      check: z.string(),
      level: z.enum(['critical', 'error', 'warn', 'info']),
      severity: z.enum(['SEV1', 'SEV2', 'SEV3', 'SEV4']).nullable(),
      summary: z.string(),
      resource: z.string().nullable(),
      evidence: z.record(z.string(), z.unknown()),
      runbook: z.string().regex(/^runbooks\/incident-response\.md#/),
      next: z.array(z.string()),
      since: z.string().optional(),
    }),
  ),
  impact: z.strictObject({
    startedAt: impactItem,
    endpoints: impactItem,
    components: impactItem,
    failedRequestsPerMinute: impactItem,
    shareOfTraffic: impactItem,
    dataAtRisk: impactItem,
  }),
  checks: z.array(
    z.strictObject({
      id: z.string(),
      status: z.enum(['ok', 'findings', 'skipped', 'errored']),
      durationMs: z.number().int().nonnegative(),
      error: z.string().nullable(),
      reason: z.string().optional(),
    }),
  ),
});

async function triageJson(cluster: SimulatedCluster, ...extra: string[]) {
  const run = await runCaptured(['triage', '--kubeconfig', cluster.kubeconfig, '-o', 'json', ...extra]);
  // Exactly one JSON document on stdout: JSON.parse fails on a spinner byte or a second document.
  const document = documentSchema.parse(JSON.parse(run.stdout));
  return { ...run, document };
}

describe.each([
  ['healthy', null, 0],
  ['api-down', 'SEV1', 3],
  ['crashloop-after-deploy', 'SEV2', 3],
  ['oom', 'SEV3', 3],
] as const)('triage of the %s scenario', (scenario, severity, code) => {
  let cluster: SimulatedCluster;
  beforeAll(async () => {
    cluster = await simulatedCluster(scenario);
  });
  afterAll(() => cluster.close());

  it(`classifies ${severity ?? 'healthy'} and exits ${code}`, async () => {
    const run = await triageJson(cluster);
    expect(run.document.severity).toBe(severity);
    expect(run.code).toBe(code);
    expect(run.document.command).toBe('triage');
    const kubeChecks = run.document.checks.filter((c) =>
      ['pod-health', 'resource-usage', 'recent-rollouts', 'error-logs', 'health-exec'].includes(c.id),
    );
    expect(kubeChecks.map((c) => c.status)).not.toContain('errored');
    if (severity) {
      expect(run.document.responseTime).toBe({ SEV1: '15m', SEV2: '30m', SEV3: '2h' }[severity]);
      expect(run.document.escalation[0]).toEqual({ after: '0m', to: 'On-Call' });
      const deciding = run.document.findings.filter((f) => f.severity === severity);
      expect(deciding.length).toBeGreaterThan(0);
      for (const f of deciding) expect(run.document.severityReason).toContain(f.code);
    } else {
      // The headline names what was not looked at, e.g. every Prometheus check when none is configured.
      expect(run.document.severityReason).toMatch(
        /^no problem found; \d+ of \d+ checks skipped: db-connections \(no database configured\), error-rate, latency, component-health[^;]* \(no Prometheus configured\), status-page-anthropic, status-page-openai \(read only when the app reports its AI provider unhealthy, and no Prometheus is configured to tell\); error rates were not measured$/,
      );
      // The status pages need no Prometheus of their own: they skip for the gate on the app's health gauge.
      for (const id of ['status-page-anthropic', 'status-page-openai']) {
        expect(run.document.checks.find((c) => c.id === id)?.reason).toMatch(/^read only when the app reports its AI provider unhealthy, and no Prometheus is configured to tell \(run aegis-ir diagnose ai-provider/);
      }
      expect(run.document.findings.filter((f) => f.severity)).toEqual([]);
    }
  });
});

describe('triage verdicts in detail', () => {
  it('names the rollout five minutes before the crash loop, and the rollback', async () => {
    const cluster = await simulatedCluster('crashloop-after-deploy');
    try {
      const { document } = await triageJson(cluster);
      expect(document.severityReason).toMatch(/AEG-1002 2 of 4 pods are failing to run \(CrashLoopBackOff ×2\)/);
      expect(document.severityReason).toMatch(/AEG-1021 suspect: revision 4 .*deploy api v2\.4\.1/);
      const suspect = document.findings.find((f) => f.code === 'AEG-1021');
      expect(suspect?.next).toContain('aegis-ir fix rollback --dry-run');
      const logs = document.findings.filter((f) => f.code === 'AEG-1030');
      expect(logs.map((f) => f.summary).join('\n')).toContain('FATAL config: required key AEGIS_AI_PROVIDER_KEY missing');
    } finally {
      await cluster.close();
    }
  });

  it('says no ready pod and that the health command fails when the API is down', async () => {
    const cluster = await simulatedCluster('api-down');
    try {
      const { document } = await triageJson(cluster);
      expect(document.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['AEG-1001', 'AEG-1040']));
      const health = document.findings.find((f) => f.code === 'AEG-1040');
      expect(health?.summary).toMatch(/database: unreachable/);
      // Step 2, impact: what is down and whether data is at risk, from the evidence; traffic unknown without Prometheus.
      expect(document.impact.components).toMatchObject({ value: ['api', 'database'] });
      expect(document.impact.dataAtRisk).toMatchObject({ value: true, evidence: [expect.stringMatching(/database is unreachable/)] });
      expect(document.impact.failedRequestsPerMinute).toMatchObject({ value: null, why: expect.stringMatching(/no Prometheus configured/) });
      expect(document.impact.startedAt.value).toBe(document.findings.find((f) => f.code === 'AEG-1001')?.since);
      // A SEV1 verdict leads to declaring the incident.
      for (const f of document.findings.filter((x) => x.severity === 'SEV1')) expect(f.next).toContain('aegis-ir incident open --from-triage');
    } finally {
      await cluster.close();
    }
  });

  it('names the OOMKilled pod while the others serve', async () => {
    const cluster = await simulatedCluster('oom');
    try {
      const { document } = await triageJson(cluster);
      const oom = document.findings.find((f) => f.code === 'AEG-1004');
      expect(oom?.resource).toMatch(/^pod\/aegis-api-/);
      expect(oom?.summary).toMatch(/OOMKilled 10m ago \(2 restart\(s\)\)/);
      expect(document.findings.some((f) => f.code === 'AEG-1001')).toBe(false);
    } finally {
      await cluster.close();
    }
  });

  it('respects --fail-on: a SEV2 passes a SEV1 gate and fails a SEV2 gate', async () => {
    const cluster = await simulatedCluster('crashloop-after-deploy');
    try {
      expect((await triageJson(cluster, '--fail-on', 'SEV1')).code).toBe(0);
      expect((await triageJson(cluster, '--fail-on', 'SEV2')).code).toBe(3);
      expect((await triageJson(cluster, '--fail-on', 'never')).code).toBe(0);
    } finally {
      await cluster.close();
    }
  });

  it('prints the verdict, findings, checks and next commands as text', async () => {
    const cluster = await simulatedCluster('oom');
    try {
      const run = await runCaptured(['triage', '--kubeconfig', cluster.kubeconfig]);
      expect(run.code).toBe(3);
      expect(run.stdout).toMatch(/^SEV3 {2}Minor degradation — respond within 2h\n/);
      expect(run.stdout).toContain('escalation: On-Call now → Tech Lead at 30m');
      // The runbook diagnoses before it fixes: the OOMKill and the pod near its limit point at diagnose memory.
      expect(run.stdout).toContain(`Next\n  $ aegis-ir diagnose memory --kubeconfig ${cluster.kubeconfig}\n`);
      expect(run.stdout).not.toContain('fix memory-limit');
      // Not a TTY: no colour codes.
      expect(run.stdout).not.toMatch(/\u001b\[/);
    } finally {
      await cluster.close();
    }
  });
});

describe('triage when it cannot assess', () => {
  it('exits 4 with one clear line when the cluster port is closed', async () => {
    const port = await closedPort();
    const kubeconfig = kubeconfigFor(port);
    const run = await runCaptured(['triage', '--kubeconfig', kubeconfig, '--timeout', '5s']);
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `aegis-ir: cannot reach the Kubernetes API at http://127.0.0.1:${port} (connection refused)\n` +
        '  try: check --kubeconfig and --context, then try: kubectl cluster-info\n',
    );
    const json = await runCaptured(['triage', '--kubeconfig', kubeconfig, '-o', 'json']);
    expect(json.code).toBe(4);
    const document = JSON.parse(json.stdout) as { severity: unknown; severityReason: string };
    expect(document.severity).toBeNull();
    expect(document.severityReason).toMatch(/^unknown: nothing could be assessed/);
  });

  it('gives up on a cluster that accepts connections but never answers, within --timeout', async () => {
    // Sockets are held open and never answered, like a firewalled or hung API server.
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const run = await runCaptured(['triage', '--kubeconfig', kubeconfigFor(port), '--timeout', '1s', '-o', 'json']);
      expect(run.code).toBe(4);
      const document = JSON.parse(run.stdout) as { checks: Array<{ status: string; error: string }> };
      expect(document.checks.filter((c) => c.status === 'errored').map((c) => c.error)).toContain("the run's 1s deadline (--timeout) passed while waiting for the cluster");
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  it('exits 2 naming a bad config key, and loses nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aegis-badcfg-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'namespace: aegis\ntriage:\n  logTail: 50\n');
    const run = await runCaptured(['triage', '--config', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown key "triage.logTail"');
    expect(run.stderr).toContain('logTailLines');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 for an unknown flag value, naming it', async () => {
    const run = await runCaptured(['triage', '--fail-on', 'SEV9']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/SEV9/);
  });
});

/** A kubeconfig for a cluster at 127.0.0.1:port. */
function kubeconfigFor(port: number): string {
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'aegis-kubeconfig-')), 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${port}\n    insecure-skip-tls-verify: true\n` +
      'contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: abc\ncurrent-context: c\n',
  );
  return kubeconfig;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('triage pointed at the wrong thing', () => {
  it('refuses a cluster whose certificate the kubeconfig does not trust (exit 4)', async () => {
    const sim = await startKubeSimulator({ scenario: 'healthy', tls: true });
    try {
      const other = readFileSync(new URL('../fixtures/tls/unrelated-ca.crt', import.meta.url)).toString('base64');
      const kubeconfig = join(mkdtempSync(join(tmpdir(), 'aegis-tls-')), 'kubeconfig');
      writeFileSync(kubeconfig, sim.kubeconfigYaml().replace(/certificate-authority-data: .*/, `certificate-authority-data: ${other}`));
      const run = await runCaptured(['triage', '--kubeconfig', kubeconfig]);
      expect(run.code).toBe(4);
      expect(run.stderr).toBe(
        `aegis-ir: cannot reach the Kubernetes API at ${sim.url} (TLS certificate not trusted)\n` +
          "  try: check the cluster's certificate-authority in the kubeconfig, then try: kubectl cluster-info\n",
      );
      // With the sandbox's own CA the same server is trusted.
      const trusted = join(mkdtempSync(join(tmpdir(), 'aegis-tls-')), 'kubeconfig');
      await sim.writeKubeconfig(trusted);
      expect((await runCaptured(['triage', '--kubeconfig', trusted, '-o', 'json'])).code).toBe(0);
    } finally {
      await sim.close();
    }
  });

  it('says a file with no context is probably not a kubeconfig (exit 2)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'aegis-notkube-')), 'notes.txt');
    writeFileSync(file, 'export FOO=bar\n');
    const run = await runCaptured(['triage', '--kubeconfig', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`kubeconfig ${file} defines no context; is it a kubeconfig?`);
  });

  it('names the contexts a kubeconfig has when --context matches none (exit 2)', async () => {
    const run = await runCaptured(['triage', '--kubeconfig', kubeconfigFor(1), '--context', 'prod']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('context "prod" is not in the kubeconfig; it has: c');
  });

  it('says where a bad value came from and how to correct it', async () => {
    const run = await runCaptured(['triage'], { env: { HOME: '/nonexistent', PROMETHEUS_URL: 'prometheus:9090' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'aegis-ir: environment variable PROMETHEUS_URL: prometheus.url: "prometheus:9090" is not valid; expected an http:// or https:// URL such as http://prometheus:9090\n' +
        '  try: correct or unset PROMETHEUS_URL\n',
    );
  });
});
