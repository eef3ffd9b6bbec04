import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCaptured } from '../helpers/cli.js';
import { simulatedCluster, type SimulatedCluster } from '../helpers/simulator.js';

interface Document {
  severity: string | null;
  severityReason: string;
  findings: Array<{ code: string; severity: string | null; summary: string; resource: string | null; evidence: Record<string, unknown>; next: string[] }>;
  checks: Array<{ id: string; status: string; error: string | null }>;
}

const scenario = (name: string) => fileURLToPath(new URL(`../fixtures/scenarios/${name}.yaml`, import.meta.url));

let cluster: SimulatedCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/** Deadlines roomy enough for a loaded CI machine: these tests are about verdicts, not speed. */
const roomy = join(mkdtempSync(join(tmpdir(), 'aegis-real-cluster-')), 'config.yaml');
writeFileSync(roomy, 'timeout: 60s\ncheckTimeout: 30s\n');

async function run(name: string, command = 'triage', ...extra: string[]) {
  cluster = await simulatedCluster(scenario(name));
  const result = await runCaptured([...command.split(' '), '--kubeconfig', cluster.kubeconfig, '--config', roomy, '-o', 'json', ...extra]);
  const document = JSON.parse(result.stdout) as Document;
  const codes = document.findings.map((f) => f.code);
  const check = (id: string) => document.checks.find((c) => c.id === id);
  return { ...result, document, codes, check };
}

describe('triage on real cluster shapes', () => {
  it('runs the health command in the app container of a meshed pod, not the sidecar listed first (healthy, exit 0)', async () => {
    const { code, document, check } = await run('sidecar-first');
    expect(document.findings.filter((f) => f.severity)).toEqual([]);
    expect(check('health-exec')?.status).toBe('ok');
    expect(check('error-logs')?.status).toBe('ok');
    expect(code).toBe(0);
  });

  it('does not count week-old Evicted pods as failing, nor read their logs', async () => {
    const { code, document, codes, check } = await run('evicted-leftovers');
    expect(document.severity === null || document.severity === 'SEV4').toBe(true);
    expect(check('error-logs')?.status).toBe('ok');
    const leftover = document.findings.find((f) => f.code === 'AEG-1007');
    expect(leftover?.severity).toBeNull();
    expect(leftover?.summary).toMatch(/^4 finished pod\(s\) of deployment\/aegis-api linger \(Evicted ×4\), the oldest started 8d ago/);
    expect(codes).not.toContain('AEG-1002');
    expect(codes).not.toContain('AEG-1003');
    expect(code).toBe(0);
  });

  it('classifies Init:CrashLoopBackOff on the new pods as SEV2, naming the init container and the rollout', async () => {
    const { code, document } = await run('init-crashloop-after-deploy');
    expect(document.severity).toBe('SEV2');
    expect(document.severityReason).toContain('AEG-1002 2 of 4 pods are failing to run (Init:CrashLoopBackOff (db-migrate) ×2)');
    expect(document.severityReason).toMatch(/AEG-1021 suspect: revision 4 of deployment\/aegis-api \(deploy api v2\.4\.1\)/);
    expect(code).toBe(3);
  });

  it('is SEV1 when the Deployment has no ready pod, whatever a Ready canary sharing its label says', async () => {
    const { document } = await run('canary-outage');
    expect(document.severity).toBe('SEV1');
    expect(document.severityReason).toContain('AEG-1001 no ready aegis-api pod (0 of 3 desired, 3 pod(s) exist)');
    const others = document.findings.find((f) => f.code === 'AEG-1008');
    expect(others?.summary).toContain('(Deployment/aegis-api-canary)');
  });

  it('keeps OOMKilled of a crash loop through to the decision: memory, diagnosed first', async () => {
    const triage = await run('oom-crashloop');
    expect(triage.document.severityReason).toContain('2 of 3 pods are failing to run (CrashLoopBackOff (OOMKilled) ×2)');
    await cluster?.close();
    const { document } = await run('oom-crashloop', 'diagnose api-errors');
    const decision = document.findings.find((f) => f.code === 'AEG-3055');
    expect(decision?.summary).toMatch(/^likely cause: out of memory/);
    expect(decision?.next).toEqual(['aegis-ir diagnose memory']);
  });

  it('decides for the database, not a rollback, when health says the database is unreachable on every pod', async () => {
    const { document, codes } = await run('db-unreachable-after-deploy', 'diagnose api-errors');
    const decision = document.findings.find((f) => f.code === 'AEG-3055');
    expect(decision?.summary).toMatch(/^likely cause: database connections/);
    // No database is configured for this run: diagnose db-connections is said to need one, not suggested.
    expect(decision?.next).toEqual([]);
    expect(codes).not.toContain('AEG-1021');
  });

  it('reports a rolling update in progress as such, not as SEV3', async () => {
    const { code, document, codes } = await run('rolling-update');
    expect(document.severity).toBeNull();
    expect(codes).not.toContain('AEG-1006');
    expect(document.findings.find((f) => f.code === 'AEG-1022')?.summary).toBe(
      'deployment/aegis-api is rolling out revision 4: 2 of 4 updated, 3 ready (progress deadline 10m)',
    );
    expect(code).toBe(0);
  });

  it('names the revision of a rollout past its progress deadline, and the unschedulable pod with the scheduler\'s words', async () => {
    const { document } = await run('rollout-stalled');
    expect(document.severity).toBe('SEV3');
    const stalled = document.findings.find((f) => f.code === 'AEG-1023');
    expect(stalled?.summary).toMatch(/^the rollout of revision 4 of deployment\/aegis-api exceeded its progress deadline: ReplicaSet "aegis-api-\w+" has timed out progressing\.$/);
    const failing = document.findings.find((f) => f.code === 'AEG-1003');
    expect(failing?.summary).toContain('(Unschedulable)');
    expect(JSON.stringify(failing?.evidence)).toContain('0/3 nodes are available: 3 Insufficient memory');
  });

  it('names a pod whose node is NotReady', async () => {
    const { document } = await run('node-not-ready');
    expect(document.severity).toBe('SEV3');
    expect(document.severityReason).toContain('1 of 3 pods are failing to run (NodeNotReady (ip-10-0-3-17.eu-west-1.compute.internal)) while the others serve');
  });
});

/**
 * An HTTP proxy in front of the simulator that answers one path with an HTML page, as an auth
 * proxy or a misrouted ingress does; everything else is forwarded.
 */
async function htmlFor(path: string, upstream: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url?.split('?')[0] === path) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><html><body><h1>Sign in</h1></body></html>');
      return;
    }
    const target = new URL(req.url ?? '/', upstream);
    req.pipe(
      httpRequest(target, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('unknown is never healthy', () => {
  it('is incomplete (exit 4), not skipped, when metrics-server answers 503', async () => {
    const { code, check, stderr } = await run('metrics-server-down');
    expect(check('resource-usage')).toMatchObject({ status: 'errored' });
    expect(check('resource-usage')?.error).toBe(
      'metrics.k8s.io answered 503 Service Unavailable: metrics-server is installed but not serving (check: kubectl get apiservice v1beta1.metrics.k8s.io)',
    );
    expect(stderr).toMatch(/verdict incomplete: resource-usage failed \(.*503/);
    expect(code).toBe(4);
  });

  it('is incomplete (exit 4) when the Deployment is answered with an HTML page', async () => {
    cluster = await simulatedCluster('healthy');
    const proxy = await htmlFor('/apis/apps/v1/namespaces/aegis/deployments/aegis-api', cluster.sim.url);
    try {
      const kubeconfig = `${cluster.kubeconfig}.html`;
      writeFileSync(kubeconfig, cluster.sim.kubeconfigYaml().replace(cluster.sim.url, proxy.url));
      const result = await runCaptured(['triage', '--kubeconfig', kubeconfig, '--config', roomy, '-o', 'json']);
      const document = JSON.parse(result.stdout) as Document;
      expect(document.severity).toBeNull();
      expect(document.checks.find((c) => c.id === 'pod-health')?.status).toBe('errored');
      expect(result.code).toBe(4);
    } finally {
      await proxy.close();
    }
  });

  it('is a usage error (exit 2) naming a namespace that does not exist', async () => {
    cluster = await simulatedCluster('healthy');
    const result = await runCaptured(['triage', '--kubeconfig', cluster.kubeconfig, '-n', 'aegis-prod']);
    expect(result.stderr).toContain('namespace "aegis-prod" not found');
    expect(result.code).toBe(2);
  });
});
