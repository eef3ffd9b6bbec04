import { setMaxListeners } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deadlineSignal } from '../../src/core/cancellation.js';
import { CancelledError, DeadlineError, UnreachableError } from '../../src/core/errors.js';
import { connectKube } from '../../src/kube/client.js';
import { MAX_SOCKETS } from '../../src/kube/transport.js';
import { startKubeSimulator, type KubeSimulator } from '../../src/sandbox/kube-simulator/index.js';
import { parse, stringify } from 'yaml';
import { runCaptured } from '../helpers/cli.js';

/** A run's signal: every request in flight listens on it, as on the deadline signal of a real run. */
const never = new AbortController().signal;
setMaxListeners(0, never);

describe('one keep-alive connection pool per run', () => {
  let sim: KubeSimulator;
  let kubeconfig: string;
  beforeAll(async () => {
    sim = await startKubeSimulator({ scenario: 'crashloop-after-deploy', tls: true });
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'aegis-pool-')), 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig);
  });
  afterAll(() => sim.close());

  it('serves sixty concurrent reads over at most MAX_SOCKETS TLS connections', async () => {
    const kube = await connectKube({ kubeconfig, namespace: 'aegis' }, {});
    const before = sim.connections;
    const pods = await kube.listPods('app=aegis-api', never);
    const reads = await Promise.all([
      ...Array.from({ length: 40 }, () => kube.listPods('app=aegis-api', never)),
      ...pods.flatMap((p) => Array.from({ length: 5 }, () => kube.readPodLog(p.metadata?.name ?? '', { tailLines: 5, limitBytes: 4096 }, never))),
    ]);
    expect(reads).toHaveLength(40 + pods.length * 5);
    expect(sim.connections - before).toBeLessThanOrEqual(MAX_SOCKETS);
    expect(kube.connectionsOpened).toBe(sim.connections - before);
    // Time fields are Dates, as client-node's own deserialiser made them.
    expect(pods[0]?.metadata?.creationTimestamp).toBeInstanceOf(Date);
    kube.close();
  });

  it("asks client-node once a run for credentials that cannot change (the kubeconfig's token), and for an exec plugin's at every request", async () => {
    const asked = vi.spyOn(KubeConfig.prototype, 'applyToHTTPSOptions');
    try {
      const kube = await connectKube({ kubeconfig, namespace: 'aegis' }, {});
      await Promise.all(Array.from({ length: 5 }, () => kube.listPods('app=aegis-api', never)));
      await kube.listPods('app=aegis-api', never);
      expect(asked).toHaveBeenCalledTimes(1);
      kube.close();
      asked.mockClear();
      // The same cluster, its token from an exec plugin: asked for at every request, so a refreshed token is sent.
      const document = parse(readFileSync(kubeconfig, 'utf8')) as { users: Array<{ user: Record<string, unknown> }> };
      const script = join(mkdtempSync(join(tmpdir(), 'aegis-exec-')), 'token.mjs');
      const credential = { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: document.users[0]?.user.token } };
      writeFileSync(script, `process.stdout.write(${JSON.stringify(JSON.stringify(credential))});\n`);
      for (const { user } of document.users) {
        delete user.token;
        user.exec = { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [script], interactiveMode: 'Never' };
      }
      const execKubeconfig = join(mkdtempSync(join(tmpdir(), 'aegis-exec-')), 'kubeconfig');
      writeFileSync(execKubeconfig, stringify(document));
      const viaExec = await connectKube({ kubeconfig: execKubeconfig, namespace: 'aegis' }, {});
      await viaExec.listPods('app=aegis-api', never);
      await viaExec.listPods('app=aegis-api', never);
      expect(asked).toHaveBeenCalledTimes(2);
      viaExec.close();
    } finally {
      asked.mockRestore();
    }
  });

  it('a whole triage, logs and exec included, opens no more than the pool plus one per exec', async () => {
    const before = sim.connections;
    const run = await runCaptured(['triage', '--kubeconfig', kubeconfig, '-o', 'json']);
    expect(run.code).toBe(3);
    const document = JSON.parse(run.stdout) as { checks: { id: string; status: string }[] };
    expect(document.checks.find((c) => c.id === 'health-exec')?.status).toBe('ok');
    // An exec upgrades its connection to a WebSocket, which can never go back to the pool; health-exec runs
    // once when the command passes, and at most in each of the two running pods.
    expect(sim.connections - before).toBeLessThanOrEqual(MAX_SOCKETS + 2);
  });
});

/** A server that speaks just enough HTTP to misbehave, with a kubeconfig pointing at it. */
async function misbehaving(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; kubeconfig: string; closed: () => number }> {
  const server = createServer(handler);
  let closed = 0;
  server.on('connection', (socket) => socket.on('close', () => (closed += 1)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'aegis-faulty-')), 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]\n` +
      `users: [{name: u, user: {token: secret-token-123}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
  );
  return { server, kubeconfig, closed: () => closed };
}

describe('the Kubernetes port under transport faults', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });
  const start = async (handler: Parameters<typeof createServer>[1]) => {
    const fault = await misbehaving(handler);
    servers.push(fault.server);
    return { ...fault, kube: await connectKube({ kubeconfig: fault.kubeconfig, namespace: 'aegis' }, {}) };
  };

  it("a check's deadline aborts the request in flight: the connection is closed, not left hanging", async () => {
    const { kube, closed } = await start(() => undefined);
    const { signal } = deadlineSignal(never, 150, () => new DeadlineError('cluster', 'timed out after 150ms while waiting for the cluster'));
    const began = Date.now();
    const error = await kube.listPods('app=aegis-api', signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as Error).message).toBe('timed out after 150ms while waiting for the cluster');
    expect(Date.now() - began).toBeLessThan(2000);
    await expect.poll(closed).toBe(1);
  });

  it('Ctrl-C aborts the request in flight as a cancellation', async () => {
    const { kube } = await start(() => undefined);
    const interrupt = new AbortController();
    const pending = kube.readDeployment('aegis-api', interrupt.signal);
    setTimeout(() => interrupt.abort(), 50);
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
  });

  it('a body cut off mid-response is an error at once, named, long before any deadline', async () => {
    const { kube } = await start((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '5000' });
      response.write('{"kind":"PodList","items":[{"metadata":');
      setTimeout(() => response.socket?.destroy(), 20);
    });
    const { signal } = deadlineSignal(never, 10_000, () => new DeadlineError('cluster', 'timed out'));
    const began = Date.now();
    const error = (await kube.listPods('app=aegis-api', signal).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toMatch(/^the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ closed the connection mid-response to list pods$/);
    expect(Date.now() - began).toBeLessThan(1000);
  });

  it.each([
    ['an HTML login page', 200, 'text/html', '<!DOCTYPE html><html><body>Sign in</body></html>', /answered list pods with an HTML page \(HTTP 200\), not the Kubernetes API/],
    ['JSON that is not a list', 200, 'application/json', '{"items": "nope"}', /answered list pods with a body that is not Kubernetes JSON/],
    ['garbage', 200, 'application/json', '\u0000\u0001garbage', /answered list pods with a body that is not Kubernetes JSON/],
    ['a 500 with a Status', 500, 'application/json', '{"kind":"Status","message":"etcdserver: request timed out","code":500}', /failed to list pods \(500: etcdserver: request timed out\)$/],
    ['a 502 from a proxy, in HTML', 502, 'text/html', '<html><body>Bad Gateway</body></html>', /failed to list pods \(502: an HTML page\)$/],
    ['401', 401, 'application/json', '{"kind":"Status","code":401}', /refused access to list pods \(401 Unauthorized\)$/],
    ['403', 403, 'application/json', '{"kind":"Status","code":403}', /refused access to list pods \(403 Forbidden\)$/],
  ])('%s is one line naming the API server, never a dump or a JavaScript error', async (_name, status, type, body, message) => {
    const { kube } = await start((_request, response) => {
      response.writeHead(status, { 'Content-Type': type });
      response.end(body);
    });
    const error = (await kube.listPods('app=aegis-api', never).catch((e: unknown) => e)) as UnreachableError;
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/TypeError|SyntaxError|Headers|HTTP-Code|secret-token/);
    expect(error.message.split('\n')).toHaveLength(1);
    expect(error.hint).toBeTruthy();
  });

  it('waits out a 429 as Retry-After asks, then reads the answer', async () => {
    let calls = 0;
    const { kube } = await start((_request, response) => {
      calls += 1;
      if (calls === 1) {
        response.writeHead(429, { 'Retry-After': '0', 'Content-Type': 'application/json' });
        response.end('{"kind":"Status","code":429}');
        return;
      }
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end('{"kind":"PodList","items":[{"metadata":{"name":"p"}}]}');
    });
    expect((await kube.listPods('app=aegis-api', never)).map((p) => p.metadata?.name)).toEqual(['p']);
    expect(calls).toBe(2);
  });

  it('sends the name path-encoded and refuses one that is not a Kubernetes name before any request', async () => {
    const paths: string[] = [];
    const { kube } = await start((request, response) => {
      paths.push(request.url ?? '');
      response.writeHead(404, { 'Content-Type': 'application/json' });
      response.end('{"kind":"Status","code":404}');
    });
    expect(await kube.readDeployment('aegis-api', never)).toBeNull();
    await expect(kube.readDeployment('../../etc/passwd', never)).rejects.toThrow(/"..\/..\/etc\/passwd" is not a valid Kubernetes object name/);
    expect(paths).toEqual(['/apis/apps/v1/namespaces/aegis/deployments/aegis-api']);
    await expect(connectKube({ kubeconfig: (await misbehaving(() => undefined)).kubeconfig, namespace: '../../etc' }, {})).rejects.toThrow(
      /namespace "..\/..\/etc" is not a valid Kubernetes namespace/,
    );
  });
});
