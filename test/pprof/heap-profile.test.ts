import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { describe, expect, it } from 'vitest';
import { ProfileFormatError, decodeProfile, diffTable, profileCosts, sampleTypesOf, topTable } from '../../src/pprof/heap-profile.js';
import { goHeapProfile, type Allocator } from '../../src/sandbox/heap-profile.js';

const MiB = 1024 * 1024;
const put = { function: 'github.com/cloudaegis/aegis/internal/findings.(*Cache).Put', file: '/src/internal/findings/cache.go', line: 88 };
const upsert = { function: 'github.com/cloudaegis/aegis/internal/findings.(*Store).Upsert', file: '/src/internal/findings/store.go', line: 141 };
const process = { function: 'github.com/cloudaegis/aegis/internal/worker.(*Batch).Process', file: '/src/internal/worker/batch.go', line: 97 };
const decode = { function: 'github.com/cloudaegis/aegis/internal/worker.decodeBatch', file: '/src/internal/worker/decode.go', line: 42 };
const analyze = { function: 'github.com/cloudaegis/aegis/internal/ai.(*Client).Analyze', file: '/src/internal/ai/client.go', line: 203 };
const worker = { function: 'main.worker', file: '/src/cmd/aegis-api/main.go', line: 30 };

const allocator = (stack: Allocator['stack'], mib: number): Allocator => ({ stack, inuseBytes: mib * MiB, objectBytes: 64 * 1024, allocFactor: 4 });

/** The scenario's shape: a cache inlined into its caller, a recursive frame, a function that only calls. */
export const HAND_ALLOCATORS: Allocator[] = [
  allocator([{ ...put, inlined: true }, upsert, process, worker], 300),
  allocator([decode, process, worker], 96),
  allocator([analyze, worker], 40),
  allocator([{ ...upsert, line: 150 }, process, worker], 8),
  allocator([process, { ...process, line: 60 }, worker], 4),
];

describe('heap profile decoding and the top table', () => {
  const bytes = goHeapProfile(HAND_ALLOCATORS, new Date('2026-12-01T12:00:00Z'));

  it('is gzipped profile.proto with Go\'s four heap sample types, inuse_space last', () => {
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    const profile = decodeProfile(bytes);
    expect(sampleTypesOf(profile)).toEqual(['alloc_objects/count', 'alloc_space/bytes', 'inuse_objects/count', 'inuse_space/bytes']);
    expect(profile.sampleCount).toBe(HAND_ALLOCATORS.length);
  });

  it('reads back through pprof-format as the allocators say: values, inlined frames sharing a location, period', () => {
    const read = Profile.decode(gunzipSync(bytes));
    const text = (i: number | bigint) => read.stringTable.strings[Number(i)];
    const functionName = new Map(read.function.map((f) => [Number(f.id), text(f.name)]));
    const lines = new Map(read.location.map((l) => [Number(l.id), l.line.map((line) => `${functionName.get(Number(line.functionId))?.replace(/^.*\//, '')}:${line.line}`)]));
    expect(read.sampleType.map((t) => `${text(t.type)}/${text(t.unit)}`)).toEqual(['alloc_objects/count', 'alloc_space/bytes', 'inuse_objects/count', 'inuse_space/bytes']);
    const [first] = read.sample;
    // 300 MiB in 64 KiB objects, allocated 4 times over.
    expect(first?.value.map(Number)).toEqual([19200, 1200 * MiB, 4800, 300 * MiB]);
    expect(first?.locationId.map((id) => lines.get(Number(id)))).toEqual([
      ['findings.(*Cache).Put:88', 'findings.(*Store).Upsert:141'],
      ['worker.(*Batch).Process:97'],
      ['main.worker:30'],
    ]);
    expect(first?.label.map((l) => [text(l.key), Number(l.num)])).toEqual([['bytes', 64 * 1024]]);
    expect([text(read.periodType?.type ?? 0), Number(read.period), text(read.mapping[0]?.filename ?? 0)]).toEqual(['space', 512 * 1024, '/app/aegis-api']);
    expect(BigInt(read.timeNanos)).toBe(BigInt(Date.parse('2026-12-01T12:00:00Z')) * 1_000_000n);
  });

  it('decodes an uncompressed profile.proto too', () => {
    expect(profileCosts(decodeProfile(gunzipSync(bytes))).total).toBe(448 * MiB);
  });

  it('matches values computed by hand: flat at the leaf, cum once per function per sample, inlined frames counted', () => {
    const table = topTable(profileCosts(decodeProfile(bytes)), 10);
    expect(table.total).toBe(448 * MiB);
    expect(
      table.rows.map((r) => [r.function.replace(/^.*\//, ''), r.flat / MiB, +(r.flatShare * 100).toFixed(2), +(r.sumShare * 100).toFixed(2), r.cum / MiB, +(r.cumShare * 100).toFixed(2), `${r.file}:${r.line}`, r.inline]),
    ).toEqual([
      ['findings.(*Cache).Put', 300, 66.96, 66.96, 300, 66.96, '/src/internal/findings/cache.go:88', 'inline'],
      ['worker.decodeBatch', 96, 21.43, 88.39, 96, 21.43, '/src/internal/worker/decode.go:42', null],
      ['ai.(*Client).Analyze', 40, 8.93, 97.32, 40, 8.93, '/src/internal/ai/client.go:203', null],
      ['findings.(*Store).Upsert', 8, 1.79, 99.11, 308, 68.75, '/src/internal/findings/store.go:150', null],
      ['worker.(*Batch).Process', 4, 0.89, 100, 408, 91.07, '/src/internal/worker/batch.go:97', null],
      ['main.worker', 0, 0, 100, 448, 100, '/src/cmd/aegis-api/main.go:30', null],
    ]);
    expect(topTable(profileCosts(decodeProfile(bytes)), 2).rows).toHaveLength(2);
  });

  it('ranks what grew between two profiles against the base total (-diff_base)', () => {
    const later = HAND_ALLOCATORS.map((a, i) => (i === 0 ? { ...a, inuseBytes: a.inuseBytes + 64 * MiB } : i === 2 ? { ...a, inuseBytes: a.inuseBytes - 8 * MiB } : a));
    const base = profileCosts(decodeProfile(bytes));
    const diff = diffTable(base, profileCosts(decodeProfile(goHeapProfile(later, new Date()))), 10);
    expect(diff.total).toBe(448 * MiB);
    expect(diff.rows.map((r) => [r.function.replace(/^.*\//, ''), r.flat / MiB, r.cum / MiB])).toEqual([
      ['findings.(*Cache).Put', 64, 64],
      ['ai.(*Client).Analyze', -8, -8],
      // Equal flat: by full name, then cum.
      ['findings.(*Store).Upsert', 0, 64],
      ['worker.(*Batch).Process', 0, 64],
      ['main.worker', 0, 56],
    ]);
  });

  it('names what it got instead of a profile', () => {
    expect(() => decodeProfile(Buffer.from('heap profile: 3412: 489684992 [91822: 6312878080] @ heap/1048576\n'))).toThrow(/legacy text heap profile/);
    expect(() => decodeProfile(Buffer.from([0x1f, 0x8b, 1, 2, 3]))).toThrow(ProfileFormatError);
    expect(() => decodeProfile(Buffer.from('<html><body>404</body></html>'))).toThrow(ProfileFormatError);
    expect(() => profileCosts(decodeProfile(bytes), 'cpu')).toThrow(/no cpu samples; it has alloc_objects\/count/);
  });
});
