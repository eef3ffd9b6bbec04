import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProfile, profileCosts, topTable } from '../../src/pprof/heap-profile.js';
import { goHeapProfile } from '../../src/sandbox/heap-profile.js';
import { POD } from '../../src/sandbox/kube-simulator/resources.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { runCaptured } from '../helpers/cli.js';

interface Doc {
  severity: string | null;
  findings: Array<{ code: string; summary: string; resource: string | null; evidence: Record<string, unknown>; next: string[] }>;
  checks: Array<{ id: string; status: string; reason?: string; error?: string }>;
}

const PUT = 'github.com/cloudaegis/aegis/internal/findings.(*Cache).Put';

describe('diagnose memory on the memory-leak drill', () => {
  let sandbox: Sandbox;
  const run = (...argv: string[]) => runCaptured(argv, { env: { HOME: sandbox.dir, ...sandbox.env } });
  beforeAll(async () => {
    sandbox = await startSandbox('memory-leak');
  });
  afterAll(() => sandbox.close());

  it('of a Deployment that is not there is a usage error naming the one that is, never "healthy"', async () => {
    const result = await run('diagnose', 'memory', '--deployment', 'nope');
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('aegis-ir: deployment/nope does not exist in namespace aegis; deployments there: aegis-api\n  try: pass --deployment aegis-api (or set app.deployment in the config)\n');
    expect(result.code).toBe(2);
  });

  it('is SEV3 naming the OOMKilled pod, the pod near its limit and when it reaches it, with the leaking function on top', async () => {
    const file = join(sandbox.dir, 'heap.pb.gz');
    const result = await run('diagnose', 'memory', '-o', 'json', '--save-profile', file);
    expect(result.code).toBe(3);
    const doc = JSON.parse(result.stdout) as Doc;
    expect(doc.severity).toBe('SEV3');
    const pods = sandbox.kube.store.list(POD, 'aegis');
    const restarts = (name: string) => (pods.find((p) => p.metadata.name === name)?.['status'] as { containerStatuses: Array<{ restartCount: number }> }).containerStatuses[0]?.restartCount;
    const oom = doc.findings.find((f) => f.code === 'AEG-1100');
    expect(oom?.resource).toMatch(/^pod\//);
    expect(restarts(oom?.resource?.slice(4) ?? '')).toBe(3);
    const soon = doc.findings.find((f) => f.code === 'AEG-1102');
    expect(soon?.summary).toMatch(/grows 9\dMi\/h and will reach its 512Mi limit in 2\dm \(at \d{4}-\d\d-\d\dT\d\d:\d\dZ\)/);
    expect(doc.findings.find((f) => f.code === 'AEG-1010')?.resource).toBe(soon?.resource);
    const top = doc.findings.find((f) => f.code === 'AEG-1105');
    const [row] = top?.evidence.top as Array<{ function: string; flatShare: number }>;
    expect(row?.function).toBe(PUT);
    expect(row?.flatShare).toBeGreaterThan(0.7);
    expect((top?.evidence.table as string[])[2]).toContain(PUT);
    expect(doc.findings.find((f) => f.code === 'AEG-1103')?.summary).toMatch(/every pod grows alike, a leak in the code/);
    const decision = doc.findings.find((f) => f.code === 'AEG-1107');
    expect(decision?.summary).toMatch(/remediation: restart the affected pods.*lead for the leak: .*Cache\)\.Put holds 7\d\.\d\d% of the heap/);
    expect(decision?.next[0]).toBe('aegis-ir fix restart --dry-run');
    // The bytes as served: gzipped profile.proto that pprof reads.
    const saved = readFileSync(file);
    expect([saved[0], saved[1]]).toEqual([0x1f, 0x8b]);
    expect(topTable(profileCosts(decodeProfile(saved)), 1).rows[0]?.function).toBe(PUT);
    if (spawnSync('go', ['version']).status === 0) {
      const pprof = spawnSync('go', ['tool', 'pprof', '-top', file], { encoding: 'utf8', env: { ...process.env, HOME: sandbox.dir } });
      const firstRow = pprof.stdout.split('\n').find((_line, i, all) => i > 0 && /^\s+flat\s+flat%/.test(all[i - 1] ?? ''));
      expect(firstRow).toContain(PUT);
    }
  });

  it('--compare ranks what grew between two profiles', async () => {
    const result = await run('diagnose', 'memory', '-o', 'json', '--compare', '2s');
    const doc = JSON.parse(result.stdout) as Doc;
    const growth = doc.findings.find((f) => f.code === 'AEG-1106');
    expect(growth?.summary).toContain(`over 2s: ${PUT} grew most (+`);
  });

  it('refuses a --pod that is not one of the app, and a memory flag on another section, in one line', async () => {
    const unknown = await run('diagnose', 'memory', '--pod', 'aegis-api-nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--pod aegis-api-nope is not a pod of app=aegis-api in namespace aegis; it has aegis-api-/);
    const misplaced = await run('diagnose', 'db-connections', '--compare', '10s');
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain('--compare is a flag of diagnose memory, not of diagnose db-connections');
    const long = await run('diagnose', 'memory', '--compare', '1m');
    expect(long.code).toBe(2);
    expect(long.stderr).toContain("--compare 1m does not leave time in the run's 30s deadline");
  });
});

describe('diagnose memory where the pod serves no pprof endpoint', () => {
  it('skips the heap profile with the reason, not an error', async () => {
    const sandbox = await startSandbox('healthy');
    try {
      const result = await runCaptured(['diagnose', 'memory', '-o', 'json'], { env: { HOME: sandbox.dir, ...sandbox.env } });
      const doc = JSON.parse(result.stdout) as Doc;
      const heap = doc.checks.find((c) => c.id === 'heap-profile');
      expect(heap?.status).toBe('skipped');
      expect(heap?.reason).toMatch(/^pod\/aegis-api-\S+ port 6060 has no pprof endpoint: nothing answers there/);
      expect(doc.checks.find((c) => c.id === 'memory-usage')?.status).toBe('ok');
    } finally {
      await sandbox.close();
    }
  });
});

describe('diagnose memory where the pod serves a malformed heap profile', () => {
  it('errors the heap-profile check with one line naming what is wrong, and still reports the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aegis-malformed-heap-'));
    const scenario = parse(readFileSync(new URL('../../src/sandbox/scenarios/healthy.yaml', import.meta.url), 'utf8'), { maxAliasCount: -1 }) as {
      kubernetes: { pods: Array<{ proxy?: Array<Record<string, unknown>> }> };
    };
    // A profile.proto cut short before it was gzipped, as a crashing writer leaves it.
    const whole = gunzipSync(goHeapProfile([{ stack: [{ function: 'main.leak', file: '/src/main.go', line: 12 }], inuseBytes: 64 << 20, objectBytes: 4096, allocFactor: 2 }], new Date()));
    const served = gzipSync(whole.subarray(0, whole.length - 2));
    for (const pod of scenario.kubernetes.pods) {
      pod.proxy = [...(pod.proxy ?? []), { port: 6060, path: '/debug/pprof/heap', contentType: 'application/octet-stream', bodyBase64: served.toString('base64') }];
    }
    const file = join(dir, 'malformed-heap.yaml');
    writeFileSync(file, stringify(scenario, { aliasDuplicateObjects: false }));
    const sandbox = await startSandbox(file);
    try {
      const env = { HOME: sandbox.dir, ...sandbox.env };
      const json = await runCaptured(['diagnose', 'memory', '-o', 'json'], { env });
      const doc = JSON.parse(json.stdout) as Doc;
      const heap = doc.checks.find((c) => c.id === 'heap-profile');
      expect(heap?.status).toBe('errored');
      expect(heap?.error).toMatch(/^the heap profile is not a profile\.proto \(truncated in .+ at byte \d+ of \d+\)$/);
      expect(doc.checks.find((c) => c.id === 'memory-usage')?.status).toBe('ok');
      const text = await runCaptured(['diagnose', 'memory'], { env });
      expect(text.stdout + text.stderr).toContain(heap?.error);
      expect(text.stdout + text.stderr).not.toMatch(/\n\s+at \S+ \(/);
    } finally {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
