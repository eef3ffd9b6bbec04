import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeSimulator, startKubeSimulator } from '../../src/sandbox/kube-simulator/index.js';
import { DEPLOYMENT, LEASE, POD } from '../../src/sandbox/kube-simulator/resources.js';
import { fixedClock, scenarioWith } from './simulator-helpers.js';

interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Record<string, unknown>;
}

describe('REST semantics of the simulator (oom scenario)', () => {
  let sim: KubeSimulator;
  const call = async (path: string, init: RequestInit = {}): Promise<Reply> => {
    const response = await fetch(`${sim.url}${path}`, init);
    return { status: response.status, contentType: response.headers.get('content-type') ?? '',
      body: await response.json() as Record<string, unknown> };
  };
  const pods = '/api/v1/namespaces/aegis/pods';
  const names = (reply: Reply): string[] =>
    (reply.body['items'] as { metadata: { name: string } }[]).map((i) => i.metadata.name);

  beforeAll(async () => {
    sim = await startKubeSimulator({ scenario: 'oom', clock: fixedClock });
  });
  afterAll(async () => sim.close());

  it('answers unrouted paths with a 404 Status rather than hanging', async () => {
    const reply = await call('/apis/batch/v1/jobs');
    expect([reply.status, reply.body['kind'], reply.body['reason']]).toEqual([404, 'Status', 'NotFound']);
  });

  it('answers an aggregated-discovery request with legacy discovery as plain JSON', async () => {
    const reply = await call('/apis', { headers: { accept:
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } });
    expect([reply.contentType, reply.body['kind']]).toEqual(['application/json', 'APIGroupList']);
  });

  it('serves server-side tables with partial object metadata', async () => {
    const reply = await call(pods, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
    const rows = reply.body['rows'] as { cells: unknown[]; object: { kind: string } }[];
    expect((reply.body['columnDefinitions'] as { name: string }[]).slice(0, 5).map((c) => c.name))
      .toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(rows.map((r) => r.cells[3]).sort()).toEqual(['0', '0', '2 (10m ago)']);
    expect(rows[0]?.object.kind).toBe('PartialObjectMetadata');
  });

  it('filters with set-based label selectors and pages with limit/continue', async () => {
    expect(names(await call(`${pods}?labelSelector=${encodeURIComponent('app in (aegis-api),tier notin (db),!tier')}`)))
      .toHaveLength(3);
    expect(names(await call(`${pods}?labelSelector=app%3Dother`))).toEqual([]);
    const first = await call(`${pods}?limit=2`);
    const token = (first.body['metadata'] as { continue: string }).continue;
    const rest = await call(`${pods}?limit=2&continue=${token}`);
    expect([...names(first), ...names(rest)]).toEqual(sim.store.list(POD, 'aegis').map((p) => p.metadata.name));
  });

  it('validates writes (422), honours dryRun=All, and merge-patches with generation bumps', async () => {
    const leases = '/apis/coordination.k8s.io/v1/namespaces/aegis/leases';
    const json = { 'content-type': 'application/json' };
    const invalid = await call(leases, { method: 'POST', headers: json, body: JSON.stringify({ metadata: {} }) });
    expect([invalid.status, invalid.body['message']]).toEqual([422,
      'Lease.coordination.k8s.io "" is invalid: metadata.name: Required value: name or generateName is required']);
    const lease = JSON.stringify({ metadata: { name: 'drill' }, spec: { holderIdentity: 'bob' } });
    expect((await call(`${leases}?dryRun=All`, { method: 'POST', headers: json, body: lease })).status).toBe(201);
    expect(sim.store.get(LEASE, 'aegis', 'drill')).toBeUndefined();
    const bare = await call('/apis/apps/v1/namespaces/aegis/deployments', { method: 'POST', headers: json,
      body: JSON.stringify({ metadata: { name: 'bare' }, spec: { selector: { matchLabels: { app: 'bare' } } } }) });
    expect([bare.status, bare.body['message']]).toEqual([422,
      'Deployment.apps "bare" is invalid: spec.template.spec.containers: Required value']);
    expect(sim.store.get(DEPLOYMENT, 'aegis', 'bare')).toBeUndefined();
    const deployment = '/apis/apps/v1/namespaces/aegis/deployments/aegis-api';
    const merge = { 'content-type': 'application/merge-patch+json' };
    const dry = await call(`${deployment}?dryRun=All`, { method: 'PATCH', headers: merge,
      body: JSON.stringify({ spec: { replicas: 5 } }) });
    expect([(dry.body['spec'] as { replicas: number }).replicas, sim.store.list(POD, 'aegis').length]).toEqual([5, 3]);
    const patched = await call(deployment, { method: 'PATCH', headers: merge,
      body: JSON.stringify({ spec: { replicas: 4 } }) });
    expect((patched.body['metadata'] as { generation: number }).generation).toBe(2);
    expect(sim.store.list(POD, 'aegis')).toHaveLength(4);
  });

  it('deletes a collection by selector, and refuses other writes to a collection with 405', async () => {
    const leases = '/apis/coordination.k8s.io/v1/namespaces/aegis/leases';
    const json = { 'content-type': 'application/json' };
    for (const [name, team] of [['a', 'red'], ['b', 'red'], ['c', 'blue']]) {
      await call(leases, { method: 'POST', headers: json,
        body: JSON.stringify({ metadata: { name, labels: { team } }, spec: {} }) });
    }
    const gone = await call(`${leases}?labelSelector=team%3Dred`, { method: 'DELETE' });
    expect([gone.status, gone.body['kind'], names(gone)]).toEqual([200, 'LeaseList', ['a', 'b']]);
    expect(sim.store.list(LEASE, 'aegis').map((l) => l.metadata.name)).toEqual(['c']);
    const lease = JSON.stringify({ metadata: { name: 'd' }, spec: {} });
    for (const method of ['PUT', 'PATCH']) {
      const refused = await call(leases, { method, headers: { 'content-type': 'application/merge-patch+json' }, body: lease });
      expect([method, refused.status, refused.body['reason']]).toEqual([method, 405, 'MethodNotAllowed']);
    }
    const everywhere = await call('/apis/coordination.k8s.io/v1/leases', { method: 'POST', headers: json, body: lease });
    expect(everywhere.status).toBe(405);
    expect(sim.store.get(LEASE, 'aegis', 'd')).toBeUndefined();
  });

  it('replaces a deleted pod, as its ReplicaSet would', async () => {
    const victim = sim.store.list(POD, 'aegis')[0]?.metadata.name ?? '';
    const reply = await call(`${pods}/${victim}`, { method: 'DELETE' });
    expect(reply.status).toBe(200);
    const now = sim.store.list(POD, 'aegis').map((p) => p.metadata.name);
    expect(now).not.toContain(victim);
    expect(now).toHaveLength(4);
  });

  it('streams watch events for changes', async () => {
    const controller = new AbortController();
    const response = await fetch(`${sim.url}${pods}?watch=true&resourceVersion=${sim.store.resourceVersion}`,
      { signal: controller.signal });
    const reader = response.body?.getReader();
    const victim = sim.store.list(POD, 'aegis')[0]?.metadata.name ?? '';
    await fetch(`${sim.url}${pods}/${victim}`, { method: 'DELETE' });
    const chunk = new TextDecoder().decode((await reader?.read())?.value);
    controller.abort();
    expect(JSON.parse(chunk.split('\n')[0] ?? '{}')).toMatchObject({ type: 'DELETED', object: { metadata: { name: victim } } });
  });

  it('pod logs reject an unknown container with a 400 worded like the kubelet', async () => {
    const pod = sim.store.list(POD, 'aegis')[0]?.metadata.name ?? '';
    const wrong = await call(`${pods}/${pod}/log?container=sidecar`);
    expect([wrong.status, wrong.body['message']]).toEqual([400, `container sidecar is not valid for pod ${pod}`]);
  });
});

describe('paged lists', () => {
  it('continue after the last object served, even when an earlier one was deleted meanwhile', async () => {
    const sim = await startKubeSimulator({ scenario: 'healthy', clock: fixedClock });
    try {
      const leases = `${sim.url}/apis/coordination.k8s.io/v1/namespaces/aegis/leases`;
      const page = async (query: string) => await (await fetch(`${leases}?${query}`)).json() as
        { metadata: { continue?: string; remainingItemCount?: number }; items: { metadata: { name: string } }[] };
      for (const name of ['l1', 'l2', 'l3', 'l4', 'l5']) {
        await fetch(leases, { method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ metadata: { name }, spec: {} }) });
      }
      const first = await page('limit=2');
      expect([first.items.map((i) => i.metadata.name), first.metadata.remainingItemCount]).toEqual([['l1', 'l2'], 3]);
      await fetch(`${leases}/l1`, { method: 'DELETE' });
      const second = await page(`limit=2&continue=${first.metadata.continue ?? ''}`);
      expect(second.items.map((i) => i.metadata.name)).toEqual(['l3', 'l4']);
      const third = await page(`limit=2&continue=${second.metadata.continue ?? ''}`);
      expect([third.items.map((i) => i.metadata.name), third.metadata.continue]).toEqual([['l5'], undefined]);
      expect((await fetch(`${leases}?limit=2&continue=bm9wZQ`)).status).toBe(400);
    } finally {
      await sim.close();
    }
  });
});

describe('watches', () => {
  it('drops a watcher that stops reading instead of buffering for it without bound', async () => {
    const sim = await startKubeSimulator({ scenario: 'healthy', clock: fixedClock });
    try {
      const configmaps = `${sim.url}/api/v1/namespaces/aegis/configmaps`;
      const watch = await fetch(`${configmaps}?watch=true&resourceVersion=${sim.store.resourceVersion}`);
      const json = { 'content-type': 'application/json' };
      await fetch(configmaps, { method: 'POST', headers: json, body: JSON.stringify({ metadata: { name: 'big' } }) });
      // 40 MB of events that nobody reads: more than the sockets hold and than a watcher may leave unread.
      for (let i = 0; i < 320; i += 1) {
        await fetch(`${configmaps}/big`, { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' },
          body: JSON.stringify({ data: { blob: String(i).padEnd(128 * 1024, '.') } }) });
      }
      const reader = watch.body?.getReader();
      const ended = (async () => {
        for (;;) if ((await reader?.read())?.done !== false) return 'ended';
      })().catch(() => 'ended');
      const timeout = new Promise((resolve) => setTimeout(() => resolve('still open'), 5000));
      expect(await Promise.race([ended, timeout])).toBe('ended');
    } finally {
      await sim.close();
    }
    // 320 writes of 128 KiB each: a loaded two-core machine needs far longer than an idle one.
  }, 90_000);
});

describe('exec upgrades', () => {
  it('a client resetting the connection while it is refused does not take the simulator down', async () => {
    const sim = await startKubeSimulator({ scenario: 'healthy', clock: fixedClock });
    try {
      for (let i = 0; i < 20; i += 1) {
        const socket = connect(Number(new URL(sim.url).port), '127.0.0.1');
        await once(socket, 'connect');
        socket.write('GET /api/v1/namespaces/aegis/pods/nope/exec?command=true HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
          'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
        socket.resetAndDestroy();
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await fetch(`${sim.url}/version`)).status).toBe(200);
    } finally {
      await sim.close();
    }
  });
});

describe('pod proxy', () => {
  it('forwards the path after /proxy, whatever the namespace is called', async () => {
    const sim = await startKubeSimulator({ scenario: scenarioWith('healthy', { namespace: 'proxy-lab' }),
      clock: fixedClock });
    try {
      const pod = sim.store.list(POD, 'proxy-lab')[0]?.metadata.name ?? '';
      const reply = await fetch(`${sim.url}/api/v1/namespaces/proxy-lab/pods/${pod}:8080/proxy/healthz`);
      expect([reply.status, ((await reply.json()) as { status: string }).status]).toEqual([200, 'ok']);
    } finally {
      await sim.close();
    }
  });
});
