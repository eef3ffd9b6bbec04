// Run by `npm run bench` (bundled by it with esbuild): `generate FILE MIB` writes a Go-shaped heap
// profile whose profile.proto is MIB MiB (served gzipped); `read FILE` and `summarise FILE` read it,
// the second also decoding it and building the top table as `diagnose memory` does, and print how
// long that took in milliseconds, wall and CPU.
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { decodeProfile, profileCosts, topTable } from '../src/pprof/heap-profile.js';
import { goHeapProfile, type Allocator } from '../src/sandbox/heap-profile.js';

const [mode, file = '', size = '20'] = process.argv.slice(2);

/** Deterministic: a run measures the same profile as the last one. */
let seed = 7;
const next = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;

/** A big service's heap: 3,000 functions, stacks 8–32 deep, a few hot allocators and a long tail. */
function allocators(count: number): Allocator[] {
  const functions = Array.from({ length: 3000 }, (_, i) => ({ function: `github.com/cloudaegis/aegis/internal/pkg${i % 50}.Func${i}`, file: `/src/internal/pkg${i % 50}/f${i}.go`, line: 10 + (i % 300) }));
  return Array.from({ length: count }, () => ({
    stack: Array.from({ length: 8 + Math.floor(next() * 24) }, () => ({ ...(functions[Math.floor(next() ** 3 * functions.length)] as Allocator['stack'][number]), inlined: next() < 0.1 })),
    inuseBytes: 4096 + Math.floor(next() ** 4 * 1e8),
    objectBytes: 512,
    allocFactor: 2,
  }));
}

if (mode === 'generate') {
  const target = Number(size) * 1024 * 1024;
  const sample = goHeapProfile(allocators(10_000), new Date());
  writeFileSync(file, goHeapProfile(allocators(Math.round((10_000 * target) / gunzipSync(sample).length)), new Date()));
} else {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const bytes = readFileSync(file);
  if (mode === 'summarise') topTable(profileCosts(decodeProfile(bytes)), 10);
  const { user, system } = process.cpuUsage(cpu);
  process.stdout.write(`${Number(process.hrtime.bigint() - started) / 1e6} ${(user + system) / 1000}\n`);
}
