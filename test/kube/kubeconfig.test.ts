import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../src/kube/kubeconfig.js';
import { runCaptured } from '../helpers/cli.js';
import { simulatedCluster, type SimulatedCluster } from '../helpers/simulator.js';

const dir = mkdtempSync(join(tmpdir(), 'aegis-kubeconfig-'));

/** A kubeconfig with one cluster/user/context per name, each cluster's server naming the file it came from. */
function kubeconfigFile(name: string, contexts: string[], current?: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, name, 'config');
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: contexts.map((c) => ({ name: c, cluster: { server: `https://${name}.example:6443`, ...extra } })),
      users: contexts.map((c) => ({ name: c, user: { token: `${name}-token` } })),
      contexts: contexts.map((c) => ({ name: c, context: { cluster: c, user: c, namespace: `${name}-ns` } })),
      ...(current ? { 'current-context': current } : {}),
    }),
  );
  return path;
}

async function load(kubeconfig: string | string[], context?: string): Promise<KubeConfig> {
  const kc = new KubeConfig();
  await loadKubeConfig(kc, { kubeconfig, context, namespace: 'aegis' }, { HOME: '/nonexistent' });
  return kc;
}

async function failure(kubeconfig: string | string[], context?: string): Promise<Error> {
  try {
    await load(kubeconfig, context);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the kubeconfig to be refused');
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('KUBECONFIG merged as kubectl merges it', () => {
  it('keeps the first definition of every name and the first current-context', async () => {
    const first = kubeconfigFile('first', ['shared', 'only-first'], 'only-first');
    const second = kubeconfigFile('second', ['shared', 'only-second'], 'only-second');
    const kc = await load([first, second]);
    expect(kc.getContexts().map((c) => c.name)).toEqual(['shared', 'only-first', 'only-second']);
    expect(kc.getCurrentContext()).toBe('only-first');
    expect(kc.getCluster('shared')?.server).toBe('https://first.example:6443');
    expect(kc.getUser('shared')?.token).toBe('first-token');
    expect(kc.getCluster('only-second')?.server).toBe('https://second.example:6443');
  });

  it('takes current-context from a later file when earlier ones set none', async () => {
    const none = kubeconfigFile('no-current', ['a']);
    const later = kubeconfigFile('later', ['b'], 'b');
    expect((await load([none, later])).getCurrentContext()).toBe('b');
  });

  it('resolves relative certificate paths against the file that holds them', async () => {
    const path = kubeconfigFile('relative', ['rel'], 'rel', { 'certificate-authority': 'ca.crt' });
    const other = kubeconfigFile('other', ['o']);
    expect((await load([other, path])).getCluster('rel')?.caFile).toBe(join(dir, 'relative', 'ca.crt'));
  });

  it('skips files that do not exist, and says so when none does', async () => {
    const real = kubeconfigFile('real', ['r'], 'r');
    expect((await load([join(dir, 'missing'), real])).getCurrentContext()).toBe('r');
    expect((await failure([join(dir, 'missing-a'), join(dir, 'missing-b')])).message).toBe(
      `none of the KUBECONFIG files exist: ${join(dir, 'missing-a')}, ${join(dir, 'missing-b')}`,
    );
  });

  it('names a broken file without echoing what it holds', async () => {
    const good = kubeconfigFile('good', ['g'], 'g');
    const broken = join(dir, 'broken');
    writeFileSync(broken, 'users:\n- name: x\n  user: {token: s3cret-token-value\n');
    const error = await failure([good, broken]);
    expect(error.message).toMatch(new RegExp(`^kubeconfig ${broken} could not be read: not valid YAML at line \\d+ \\(at or after key users\\[0\\]\\.user\\): .+$`));
    expect(error.message).not.toContain('s3cret');
  });

  it('names the line and key of a value that breaks the YAML, never the value', async () => {
    const broken = join(dir, 'broken-value');
    writeFileSync(broken, 'apiVersion: v1\nusers:\n- name: x\n  user:\n    token: s3cret: token-value\ncontexts: []\n');
    const error = await failure(broken);
    expect(error.message).toBe(`kubeconfig ${broken} could not be read: not valid YAML at line 5 (at or after key users[0].user.token): bad indentation of a mapping entry`);
    writeFileSync(broken, '');
    expect((await failure(broken)).message).toBe(`kubeconfig ${broken} could not be read: it is empty or not a kubeconfig (expected a mapping with clusters, users and contexts)`);
  });

  it('uses one file for --kubeconfig, which must exist', async () => {
    const path = kubeconfigFile('single', ['s'], 's');
    expect((await load(path)).getContexts().map((c) => c.name)).toEqual(['s']);
    expect((await failure(join(dir, 'absent'))).message).toBe(`kubeconfig ${join(dir, 'absent')} does not exist`);
  });
});

describe('aegis-ir with KUBECONFIG=missing:sandbox', () => {
  let cluster: SimulatedCluster;
  beforeAll(async () => {
    cluster = await simulatedCluster('healthy');
  });
  afterAll(() => cluster.close());

  it('triages the sandbox context, as kubectl would reach it', async () => {
    const other = kubeconfigFile('operator', ['prod'], 'prod');
    const env = { HOME: '/nonexistent', KUBECONFIG: [join(dir, 'missing'), other, cluster.kubeconfig].join(':') };
    const run = await runCaptured(['--context', 'aegis-sandbox', 'triage', '-o', 'json'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ command: 'triage', severity: null });
  });

  it('lets --kubeconfig replace KUBECONFIG rather than merge with it', async () => {
    const other = kubeconfigFile('flag', ['prod'], 'prod');
    const env = { HOME: '/nonexistent', KUBECONFIG: cluster.kubeconfig };
    const run = await runCaptured(['--kubeconfig', other, '--context', 'aegis-sandbox', 'triage'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('context "aegis-sandbox" is not in the kubeconfig; it has: prod');
  });
});
