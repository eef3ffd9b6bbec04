import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runCaptured } from '../helpers/cli.js';
import { simulatedCluster, type SimulatedCluster } from '../helpers/simulator.js';

/** Triage of several clusters at once: two simulators behind two contexts of one kubeconfig. */

interface Kubeconfig {
  clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
  users: Array<{ name: string; user: Record<string, unknown> }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string; namespace?: string } }>;
  'current-context': string;
}

interface Document {
  severity: string | null;
  severityReason: string;
  findings: Array<{ cluster?: string; code: string; next: string[] }>;
  checks: Array<{ cluster?: string; id: string; status: string; error: string | null }>;
  clusters?: Array<{ context: string; severity: string | null; severityReason: string; findings: Array<{ code: string; next: string[] }>; checks: Array<{ id: string; status: string }> }>;
}

let healthy: SimulatedCluster;
let crashing: SimulatedCluster;
let kubeconfig: string;
let hangingServer: ReturnType<typeof createServer>;
const sockets: Socket[] = [];

/** One kubeconfig with a context per entry, each renamed from the simulator's own. */
function mergedKubeconfig(entries: Array<[name: string, file: string]>): Kubeconfig {
  const merged: Kubeconfig = { clusters: [], users: [], contexts: [], 'current-context': entries[0]?.[0] ?? '' };
  for (const [name, file] of entries) {
    const one = parse(readFileSync(file, 'utf8')) as Kubeconfig;
    merged.clusters.push({ name, cluster: one.clusters[0]?.cluster ?? {} });
    merged.users.push({ name, user: one.users[0]?.user ?? {} });
    merged.contexts.push({ name, context: { ...one.contexts[0]?.context, cluster: name, user: name } });
  }
  return merged;
}

beforeAll(async () => {
  [healthy, crashing] = await Promise.all([simulatedCluster('healthy'), simulatedCluster('crashloop-after-deploy')]);
  const config = mergedKubeconfig([
    ['east', healthy.kubeconfig],
    ['west', crashing.kubeconfig],
  ]);
  // A third cluster that accepts connections and never answers: it must not hold the others up.
  hangingServer = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => hangingServer.listen(0, '127.0.0.1', resolve));
  const { port } = hangingServer.address() as { port: number };
  config.clusters.push({ name: 'stuck', cluster: { ...config.clusters[0]?.cluster, server: `https://127.0.0.1:${port}` } });
  config.users.push({ name: 'stuck', user: {} });
  config.contexts.push({ name: 'stuck', context: { cluster: 'stuck', user: 'stuck', namespace: 'aegis' } });
  kubeconfig = join(mkdtempSync(join(tmpdir(), 'aegis-contexts-')), 'kubeconfig');
  writeFileSync(kubeconfig, stringify(config));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  hangingServer?.close();
  await Promise.all([healthy?.close(), crashing?.close()]);
});

/** One "now" for the runs a test compares, so ages such as "rolled out 5m8s ago" read the same in each. */
const clock = { now: () => pinned };
let pinned = new Date();
beforeEach(() => {
  pinned = new Date();
});

async function triage(...args: string[]) {
  const run = await runCaptured(['triage', '--kubeconfig', kubeconfig, ...args], { clock });
  return { ...run, document: (args.includes('json') ? JSON.parse(run.stdout) : null) as Document };
}

describe('triage --context repeated', () => {
  it('one context prints the single-cluster document, unchanged', async () => {
    const one = await triage('--context', 'west', '-o', 'json');
    const direct = await runCaptured(['triage', '--kubeconfig', crashing.kubeconfig, '-o', 'json']);
    expect(one.code).toBe(3);
    const keys = Object.keys(JSON.parse(direct.stdout) as object);
    expect(Object.keys(one.document)).toEqual(keys);
    expect(one.document).not.toHaveProperty('clusters');
    expect(one.document.findings.map((f) => f.code)).toEqual((JSON.parse(direct.stdout) as Document).findings.map((f) => f.code));
  });

  it('two contexts: the worst verdict decides, naming its cluster, with a section per cluster', async () => {
    const [both, west, east] = await Promise.all([
      triage('--context', 'east', '--context', 'west', '-o', 'json'),
      triage('--context', 'west', '-o', 'json'),
      triage('--context', 'east', '-o', 'json'),
    ]);
    expect(both.stderr).toBe('');
    expect(both.code).toBe(3);
    expect(both.document.severity).toBe('SEV2');
    expect(both.document.severityReason).toBe(`west: ${west.document.severityReason}`);
    expect(both.document.clusters?.map((c) => [c.context, c.severity])).toEqual([
      ['east', east.document.severity],
      ['west', 'SEV2'],
    ]);
    // Each section is what triage of that context alone finds, its next commands aimed at that context.
    const [eastSection, westSection] = both.document.clusters ?? [];
    expect(westSection?.findings.map((f) => f.code)).toEqual(west.document.findings.map((f) => f.code));
    expect(westSection?.findings.flatMap((f) => f.next)).toEqual(west.document.findings.flatMap((f) => f.next.map((n) => `${n} --context west`)));
    expect(eastSection?.checks.map((c) => [c.id, c.status])).toEqual(east.document.checks.map((c) => [c.id, c.status]));
    // The top level lists every finding and check once, each tagged with its cluster.
    expect(both.document.findings.map((f) => [f.cluster, f.code])).toEqual([
      ...east.document.findings.map((f) => ['east', f.code]),
      ...west.document.findings.map((f) => ['west', f.code]),
    ]);
    expect(both.document.checks).toHaveLength(east.document.checks.length + west.document.checks.length);
    expect(new Set(both.document.checks.map((c) => c.cluster))).toEqual(new Set(['east', 'west']));
  });

  it('journals one verdict per cluster, each naming its cluster and context', async () => {
    const audit = join(mkdtempSync(join(tmpdir(), 'aegis-contexts-journal-')), 'audit.jsonl');
    const run = await runCaptured(['triage', '--kubeconfig', kubeconfig, '--context', 'east', '--context', 'west'], { clock, env: { HOME: '/nonexistent', AEGIS_IR_AUDIT_LOG: audit } });
    expect(run.code).toBe(3);
    const verdicts = readFileSync(audit, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const byContext = Object.fromEntries(verdicts.map((v) => [String(v.context), v]));
    expect(verdicts.map((v) => v.event)).toEqual(['verdict', 'verdict']);
    expect(byContext.east).toMatchObject({ command: 'triage', severity: null, cluster: expect.stringContaining('127.0.0.1') });
    expect(byContext.west).toMatchObject({ command: 'triage', severity: 'SEV2' });
    expect(byContext.east?.cluster).not.toBe(byContext.west?.cluster);
  });

  it('prints the combined verdict, then each cluster under its name, as text', async () => {
    const run = await triage('--context', 'east', '--context', 'west');
    expect(run.code).toBe(3);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^SEV2 /);
    expect(lines[1]).toMatch(/^ {2}decided by: west: AEG-/);
    const clusters = lines.indexOf('Clusters');
    expect(lines.slice(clusters + 1, clusters + 3)).toEqual(['  east  HEALTHY', '  west  SEV2']);
    expect(lines.indexOf('Cluster east')).toBeGreaterThan(clusters);
    expect(lines.indexOf('Cluster west')).toBeGreaterThan(lines.indexOf('Cluster east'));
    expect(run.stdout).toContain('--context west');
  });

  it('a cluster that never answers is unknown under its name, within its deadline; the others still decide', async () => {
    const run = await triage('--context', 'east', '--context', 'stuck', '--timeout', '2s', '-o', 'json');
    // Nothing at or above --fail-on was found, and one cluster could not be assessed: the gate does not pass.
    expect(run.code).toBe(4);
    expect(run.document.severity).toBeNull();
    const [east, stuck] = run.document.clusters ?? [];
    expect(east?.checks.every((c) => c.status !== 'errored')).toBe(true);
    expect(stuck?.severityReason).toMatch(/^unknown: nothing could be assessed/);
    expect(run.stderr).toMatch(/^aegis-ir: verdict incomplete: stuck: cluster unreachable/m);
    expect(run.document.checks.filter((c) => c.cluster === 'stuck' && c.status === 'errored').length).toBeGreaterThan(0);
  });

  it('--all-contexts triages every context of the kubeconfig', async () => {
    const run = await triage('--all-contexts', '--timeout', '2s', '-o', 'json');
    expect(run.code).toBe(3);
    expect(run.document.clusters?.map((c) => c.context)).toEqual(['east', 'west', 'stuck']);
    expect(run.document.severity).toBe('SEV2');
  });

  it('refuses several contexts where one cluster is meant, and --all-contexts with --context', async () => {
    const fix = await runCaptured(['fix', 'rollback', '--dry-run', '--kubeconfig', kubeconfig, '--context', 'east', '--context', 'west']);
    expect(fix.code).toBe(2);
    expect(fix.stderr).toBe(
      'aegis-ir: --context was given 2 times (east, west); this command works on one cluster\n' +
        '  try: give one --context, or triage several at once: aegis-ir triage --context A --context B\n',
    );
    const both = await triage('--all-contexts', '--context', 'east');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^aegis-ir: --all-contexts and --context together/);
  });
});
