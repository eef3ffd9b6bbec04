import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKube } from '../../src/kube/client.js';
import { KubeIncidentStore } from '../../src/incident/kube-store.js';
import { LocalIncidentStore } from '../../src/incident/local-store.js';
import type { Incident } from '../../src/incident/record.js';
import type { IncidentStore } from '../../src/incident/store.js';
import { startKubeSimulator, type KubeSimulator } from '../../src/sandbox/kube-simulator/index.js';

const never = new AbortController().signal;

const CLI = fileURLToPath(new URL('../../dist/aegis-ir.js', import.meta.url));
const built = existsSync(CLI);
if (!built) console.warn('skipping the two-process incident tests: dist/aegis-ir.js is not built (npm test builds it first)');

const OPENED = new Date('2026-12-01T03:12:00Z');

function record(id: string): Incident {
  return {
    schemaVersion: 1, id, channel: `#incident-${id.slice(4)}`, severity: 'SEV2', title: 't', status: 'investigating', commander: null,
    startedAt: OPENED.toISOString(), openedAt: OPENED.toISOString(), resolvedAt: null, summary: null, detectedBy: null,
    customerFacing: false, security: false, impact: { summary: null, assessment: null }, findings: [], publicDraft: null,
    updates: [], escalations: [], reminders: [], outbox: [], refs: { slackChannel: null, statuspageIncident: null }, revision: 0,
  };
}

/** Runs `aegis-ir incident open` in `count` processes started together, and returns the ids they opened. */
async function openTogether(count: number, env: Record<string, string>, extra: string[] = []): Promise<string[]> {
  const children = Array.from({ length: count }, (_, n) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'incident', 'open', '--sev', '2', '--title', `together ${n}`, '-o', 'json', ...extra], {
        env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('exit', (code) => (code === 0 ? resolve((JSON.parse(out) as { incidents: Array<{ id: string }> }).incidents[0]?.id ?? '') : reject(new Error(`exit ${code}: ${err}`))));
    }),
  );
  return Promise.all(children);
}

/** Behaviour both stores share: numbering, reading back, and updates that lose a race being retried. */
function storeContract(name: string, make: () => IncidentStore) {
  describe(`the ${name} store`, () => {
    it('numbers a day from 01 and reads the record back as written', async () => {
      const store = make();
      const first = await store.create(OPENED, record);
      const second = await store.create(OPENED, record);
      expect([first.id, second.id]).toEqual(['INC-20261201-01', 'INC-20261201-02']);
      expect(await store.get('INC-20261201-02')).toEqual(second);
      expect((await store.list()).map((i) => i.id)).toEqual(['INC-20261201-01', 'INC-20261201-02']);
      expect((await store.create(new Date('2026-12-02T00:00:01Z'), record)).id).toBe('INC-20261202-01');
    });

    it('keeps both of two concurrent updates (a lost race is re-read and applied again)', async () => {
      const store = make();
      const { id } = await store.create(OPENED, record);
      const note = (message: string) => store.update(id, (r) => ({ ...r, updates: [...r.updates, { at: OPENED.toISOString(), message, status: r.status, severity: r.severity, public: false, by: 'x' }] }));
      await Promise.all([note('a'), note('b'), note('c'), note('d')]);
      const stored = await store.get(id);
      expect(stored?.updates.map((u) => u.message).sort()).toEqual(['a', 'b', 'c', 'd']);
      expect(stored?.revision).toBe(4);
    });
  });
}

describe('incident stores', () => {
  let sim: KubeSimulator;
  let kubeconfig: string;
  beforeAll(async () => {
    sim = await startKubeSimulator({ scenario: 'healthy', tls: true });
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'aegis-incident-kube-')), 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig);
  });
  afterAll(async () => sim?.close());

  let namespaces = 0;
  storeContract('local', () => new LocalIncidentStore(join(mkdtempSync(join(tmpdir(), 'aegis-incidents-')), 'incidents')));
  describe('over real HTTPS', () => {
    storeContract('kubernetes', () => {
      namespaces += 1;
      let store: KubeIncidentStore | undefined;
      const lazy = async () => (store ??= new KubeIncidentStore(await connectKube({ kubeconfig, namespace: `team-${namespaces}` }, {}), never));
      return {
        where: 'configmaps',
        create: async (at, build) => (await lazy()).create(at, build),
        get: async (id) => (await lazy()).get(id),
        list: async () => (await lazy()).list(),
        update: async (id, change) => (await lazy()).update(id, change),
      };
    });
  });

  it('labels each incident ConfigMap as managed by aegis-ir', async () => {
    const kube = await connectKube({ kubeconfig, namespace: 'labelled' }, {});
    await new KubeIncidentStore(kube, never).create(OPENED, record);
    const [configMap] = await kube.listConfigMaps('app.kubernetes.io/managed-by=aegis-ir', never);
    expect(configMap?.metadata?.name).toBe('inc-20261201-01');
    expect(configMap?.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'aegis-ir' });
  });

  it.skipIf(!built)('gives distinct numbers to processes opening at the same instant (local store)', async () => {
    const state = mkdtempSync(join(tmpdir(), 'aegis-together-'));
    const ids = await openTogether(4, { XDG_STATE_HOME: state });
    expect(new Set(ids).size).toBe(4);
    expect(readdirSync(join(state, 'aegis-ir', 'incidents')).filter((f) => f.endsWith('.json'))).toHaveLength(4);
  });

  it.skipIf(!built)('gives distinct numbers to processes opening at the same instant (kubernetes store)', async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'aegis-together-kube-')), 'config.yaml');
    writeFileSync(config, 'incident: { store: kubernetes }\nnamespace: rotation\n');
    const ids = await openTogether(3, { KUBECONFIG: kubeconfig, AEGIS_IR_CONFIG: config, XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'aegis-unused-')) });
    expect(new Set(ids).size).toBe(3);
    const kube = await connectKube({ kubeconfig, namespace: 'rotation' }, {});
    expect((await new KubeIncidentStore(kube, never).list()).map((i) => i.id).sort()).toEqual([...ids].sort());
  });
});
