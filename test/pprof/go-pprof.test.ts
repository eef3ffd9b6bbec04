import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeProfile, pprofPercent, pprofValue, profileCosts, topTable } from '../../src/pprof/heap-profile.js';
import { goHeapProfile, type Allocator, type AllocatorFrame } from '../../src/sandbox/heap-profile.js';

const hasGo = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
if (!hasGo && process.env.CI === 'true') throw new Error('go (Debian golang-go) is required under CI=true for the go tool pprof comparison');
if (!hasGo) console.warn('skipping the go tool pprof comparison: go is not installed (apt-get install golang-go)');

/** A small deterministic generator, so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Many stacks over a pool of functions, with inlined frames and recursion, sizes from KiB to hundreds of MiB. */
function randomAllocators(seed: number): Allocator[] {
  const next = random(seed);
  const pool: AllocatorFrame[] = Array.from({ length: 40 }, (_, i) => ({
    function: `github.com/cloudaegis/aegis/internal/pkg${i % 7}.Func${i}`,
    file: `/src/internal/pkg${i % 7}/file${i}.go`,
    line: 10 + i,
  }));
  return Array.from({ length: 120 }, () => {
    const depth = 1 + Math.floor(next() * 8);
    const stack: AllocatorFrame[] = Array.from({ length: depth }, () => {
      const frame = pool[Math.floor(next() ** 2 * pool.length)] as AllocatorFrame;
      return { ...frame, line: frame.line + Math.floor(next() * 3), inlined: next() < 0.2 };
    });
    stack.push({ function: 'main.main', file: '/src/cmd/aegis-api/main.go', line: 12 });
    return { stack, inuseBytes: Math.floor(next() ** 3 * 400 * 1024 * 1024) + 4096, objectBytes: 4096, allocFactor: 3 };
  });
}

describe.skipIf(!hasGo)('the top table against go tool pprof -top', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-pprof-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([1, 2, 3, 4, 5, 6])('agrees row for row on random profile %i', (seed) => {
    const bytes = goHeapProfile(randomAllocators(seed), new Date('2026-12-01T12:00:00Z'));
    const file = join(dir, `heap-${seed}.pb.gz`);
    writeFileSync(file, bytes);
    const out = execFileSync('go', ['tool', 'pprof', '-top', '-sample_index=inuse_space', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: dir, PPROF_TMPDIR: dir },
    });
    const lines = out.split('\n');
    const header = lines.findIndex((l) => /^\s+flat\s+flat%\s+sum%\s+cum\s+cum%/.test(l));
    expect(header).toBeGreaterThan(0);
    const total = /of (\S+) total/.exec(out)?.[1];
    const theirs = lines.slice(header + 1, header + 11).filter((l) => l.trim()).map((l) => l.trim().split(/\s+/).join(' '));
    const table = topTable(profileCosts(decodeProfile(bytes)), 10);
    expect(pprofValue(table.total, table.outputUnit)).toBe(total);
    const ours = table.rows.slice(0, theirs.length).map((r) =>
      [pprofValue(r.flat, table.outputUnit), pprofPercent(r.flatShare), pprofPercent(r.sumShare), pprofValue(r.cum, table.outputUnit), pprofPercent(r.cumShare), r.function, ...(r.inline ? [`(${r.inline})`] : [])].join(' '),
    );
    expect(theirs.length).toBeGreaterThanOrEqual(5);
    expect(ours).toEqual(theirs);
  });
});
