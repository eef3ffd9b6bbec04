import { gunzipSync, gzipSync } from 'node:zlib';
import { Function as ProfileFunction, Label, Line, Location, Mapping, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import { describe, expect, it } from 'vitest';
import { ProfileFormatError, decodeProfile, profileCosts, sampleTypesOf } from '../../src/pprof/heap-profile.js';
import { readProfileProto, type DecodedProfile } from '../../src/pprof/profile-proto.js';
import { goHeapProfile } from '../../src/sandbox/heap-profile.js';

/** A small deterministic generator, so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * A profile.proto written by pprof-format with every field the reader skips filled in too: mappings
 * whose addresses pass 2^63, labels, comments, times. Ids are in order, shuffled, or sparse up to 2^50;
 * values reach 2^52 and go negative; some stacks name locations and functions that do not exist.
 */
function randomProfile(seed: number): Uint8Array {
  const next = random(seed);
  const int = (n: number) => Math.floor(next() * n);
  const strings = new StringTable();
  const ids = (n: number) => {
    const mode = seed % 3;
    if (mode === 0) return Array.from({ length: n }, (_, i) => i + 1);
    if (mode === 1) return Array.from({ length: n }, (_, i) => i + 1).sort(() => next() - 0.5);
    return Array.from({ length: n }, (_, i) => i * 2 ** 40 + 1 + int(1000));
  };
  const functionIds = ids(1 + int(30));
  const functions = functionIds.map((id, i) => {
    const name = strings.dedup(`github.com/cloudaegis/aegis/internal/pkg${i % 5}.Func${i}`);
    return new ProfileFunction({ id, name, systemName: name, filename: strings.dedup(`/src/pkg${i % 5}/f${i}.go`), startLine: int(500) });
  });
  const locationIds = ids(1 + int(60));
  const locations = locationIds.map((id) => new Location({
    id,
    mappingId: 1,
    address: BigInt(2 ** 63) + BigInt(int(2 ** 30)),
    line: Array.from({ length: 1 + int(3) }, () => new Line({ functionId: next() < 0.05 ? 999_999 : (functionIds[int(functionIds.length)] as number), line: int(2 ** 31) })),
  }));
  const typeCount = 1 + int(4);
  const value = () => {
    const r = next();
    if (r < 0.1) return 0;
    if (r < 0.2) return -int(2 ** 40);
    if (r < 0.3) return 2 ** 52 - int(1000);
    return int(2 ** (1 + int(45)));
  };
  const samples = Array.from({ length: int(200) }, () => new Sample({
    locationId: Array.from({ length: int(12) }, () => (next() < 0.03 ? 123_456_789 : (locationIds[int(locationIds.length)] as number))),
    value: Array.from({ length: typeCount }, value),
    label: [new Label({ key: strings.dedup('bytes'), num: int(1 << 20) }), new Label({ key: strings.dedup('thread'), str: strings.dedup(`t${int(8)}`) })],
  }));
  const valueType = (type: string, unit: string) => new ValueType({ type: strings.dedup(type), unit: strings.dedup(unit) });
  return new Profile({
    sampleType: Array.from({ length: typeCount }, (_, i) => valueType(`type${i}`, i % 2 ? 'bytes' : 'count')),
    sample: samples,
    mapping: [new Mapping({ id: 1, memoryStart: BigInt(2 ** 63), memoryLimit: 2n ** 64n - 1n, fileOffset: 0, filename: strings.dedup('/app/aegis-api'), hasFunctions: true })],
    location: locations,
    function: functions,
    stringTable: strings,
    dropFrames: strings.dedup('runtime\\..*'),
    timeNanos: BigInt(Date.UTC(2026, 11, 1)) * 1_000_000n,
    durationNanos: 30_000_000_000,
    periodType: valueType('space', 'bytes'),
    period: 512 * 1024,
    comment: [strings.dedup('a comment')],
    defaultSampleType: strings.dedup(`type${typeCount - 1}`),
  }).encode();
}

/** What the summary reads of a profile, read through our decoder. */
function ours(profile: DecodedProfile) {
  const text = (i: number) => profile.string(i) ?? '?';
  const { locations, functions } = profile;
  return {
    sampleTypes: sampleTypesOf(profile),
    samples: profile.sampleTypes.map((_, t) => {
      const seen: Array<{ value: number; stack: Array<number | null> }> = [];
      profile.forEachSample(t, (value, stack, depth) => {
        seen.push({ value, stack: [...stack.subarray(0, depth)].map((l) => (l < 0 ? null : (locations.id[l] as number))) });
      });
      return seen;
    }),
    locations: [...locations.id].map((id, l) => ({
      id,
      lines: Array.from({ length: (locations.lineStart[l + 1] as number) - (locations.lineStart[l] as number) }, (_, i) => {
        const j = (locations.lineStart[l] as number) + i;
        return { functionId: locations.lineFunctionId[j], line: locations.lineNumber[j] };
      }),
    })),
    functions: [...functions.id].map((id, f) => ({ id, name: text(functions.name[f] as number), filename: text(functions.filename[f] as number) })),
  };
}

/** The same, read through pprof-format (which reads integers unsigned, as bigints past 2^28). */
function theirs(profile: Profile): ReturnType<typeof ours> {
  const signed = (v: number | bigint | undefined) => Number(BigInt.asIntN(64, BigInt(v ?? 0)));
  const text = (i: number | bigint) => profile.stringTable.strings[Number(i)] ?? '?';
  const known = new Set(profile.location.map((l) => signed(l.id)));
  return {
    sampleTypes: profile.sampleType.map((t) => `${text(t.type)}/${text(t.unit)}`),
    samples: profile.sampleType.map((_, t) =>
      profile.sample.map((s) => ({ value: signed(s.value[t]), stack: s.locationId.map((id) => (known.has(signed(id)) ? signed(id) : null)) })),
    ),
    locations: profile.location.map((l) => ({ id: signed(l.id), lines: l.line.map((line) => ({ functionId: signed(line.functionId), line: signed(line.line) })) })),
    functions: profile.function.map((f) => ({ id: signed(f.id), name: text(f.name), filename: text(f.filename) })),
  };
}

// The minimal protobuf writer the hand-made profiles below need: it can write what pprof-format never does.
const varint = (n: number | bigint): number[] => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? b | 0x80 : b);
  } while (v);
  return out;
};
const field = (n: number, wire: number, body: number[]): number[] => [...varint(n * 8 + wire), ...(wire === 2 ? [...varint(body.length), ...body] : body)];
const text = (s: string) => field(6, 2, [...Buffer.from(s)]);
/** A profile of one sample type, `inuse_space/bytes`, and one function `main.leak` at location 1. */
const minimal = (sample: number[], extra: number[] = []) => Buffer.from([
  ...text(''), ...text('inuse_space'), ...text('bytes'), ...text('main.leak'), ...text('/src/main.go'),
  ...field(1, 2, [...field(1, 0, varint(1)), ...field(2, 0, varint(2))]),
  ...field(2, 2, sample),
  ...field(4, 2, [...field(1, 0, varint(1)), ...field(4, 2, [...field(1, 0, varint(7)), ...field(2, 0, varint(12))])]),
  ...field(5, 2, [...field(1, 0, varint(7)), ...field(2, 0, varint(3)), ...field(4, 0, varint(4))]),
  ...extra,
]);

describe('the profile.proto reader', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9])('reads what pprof-format reads, field for field, on random profile %i', (seed) => {
    const raw = randomProfile(seed);
    expect(ours(readProfileProto(raw))).toEqual(theirs(Profile.decode(raw)));
    expect(ours(decodeProfile(gzipSync(raw)))).toEqual(theirs(Profile.decode(raw)));
  });

  it('reads unpacked repeated fields and skips unknown fields of every wire type', () => {
    const unknown = [...field(15, 0, varint(2n ** 63n)), ...field(16, 1, [1, 2, 3, 4, 5, 6, 7, 8]), ...field(17, 5, [1, 2, 3, 4]), ...field(18, 2, [9, 9, 9])];
    // location_id and value one at a time, as protobuf allows a writer, with unknown fields between.
    const profile = decodeProfile(minimal([...field(1, 0, varint(1)), ...unknown, ...field(2, 0, varint(3000)), ...field(1, 0, varint(1))], unknown));
    const costs = profileCosts(profile);
    expect(costs.total).toBe(3000);
    expect(costs.functions.get('main.leak')).toMatchObject({ flat: 3000, cum: 3000, file: '/src/main.go', line: 12 });
  });

  it('reads values up to 2^53 − 1 exactly, negative ones too, and refuses larger ones naming the field', () => {
    const valued = (v: number | bigint) => profileCosts(decodeProfile(minimal([...field(1, 2, varint(1)), ...field(2, 2, varint(v))]))).total;
    expect(valued(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    expect(valued(-5)).toBe(-5);
    expect(valued(-(2 ** 52) - 1)).toBe(-(2 ** 52) - 1);
    expect(() => valued(2n ** 53n)).toThrow(/Sample\.value is 9007199254740992, beyond 2\^53/);
    expect(() => valued(2n ** 63n)).toThrow(ProfileFormatError);
  });
});

describe('a malformed profile', () => {
  const frame = { function: 'github.com/cloudaegis/aegis/internal/findings.(*Cache).Put', file: '/src/internal/findings/cache.go', line: 88 };
  const served = goHeapProfile([{ stack: [frame, { ...frame, function: 'main.main', line: 12 }], inuseBytes: 300 << 20, objectBytes: 1 << 16, allocFactor: 4 }], new Date('2026-12-01T12:00:00Z'));
  const raw = gunzipSync(served);

  /** One line naming what is wrong, as a ProfileFormatError (never a crash of another kind). */
  const refusal = (bytes: Uint8Array): string => {
    try {
      profileCosts(decodeProfile(bytes));
    } catch (error) {
      expect(error).toBeInstanceOf(ProfileFormatError);
      const message = (error as Error).message;
      expect(message).not.toContain('\n');
      return message;
    }
    throw new Error('the malformed profile was read');
  };

  it('is refused when truncated, gzipped or not', () => {
    expect(refusal(served.subarray(0, served.length - 40))).toMatch(/^the heap profile is not valid gzip \(unexpected end of file\)$/);
    expect(refusal(raw.subarray(0, raw.length - 2))).toMatch(/^the heap profile is not a profile\.proto \(truncated in .+ at byte \d+ of \d+\)$/);
    // Cut between two fields it reads without error, but its strings, written last, are missing.
    const beforeStrings = raw.indexOf(Buffer.from(text('')));
    expect(refusal(raw.subarray(0, beforeStrings))).toMatch(/^the heap profile is not a profile\.proto \(a sample type is string \d+ of a string table of 0: truncated\?\)$/);
  });

  it('is refused when it is not gzip nor protobuf', () => {
    expect(refusal(Buffer.from('<html><body>404 page not found</body></html>'))).toMatch(/^the heap profile is not a profile\.proto \(.*wire type \d/);
    expect(refusal(Buffer.from('{"error":"profiling disabled"}'))).toMatch(/^the heap profile is not a profile\.proto/);
    expect(refusal(Buffer.alloc(0))).toBe('the heap profile has no sample types: not a profile.proto');
  });

  it('is refused when a field has the wrong wire type', () => {
    expect(refusal(minimal([...field(1, 5, [1, 0, 0, 0])]))).toMatch(/^the heap profile is not a profile\.proto \(Sample\.location_id has wire type 5 at byte \d+, expected varint or packed\)$/);
    expect(refusal(Buffer.concat([raw, Buffer.from(field(2, 0, varint(1)))]))).toMatch(/\(Profile\.sample has wire type 0 at byte \d+, expected length-delimited\)$/);
    expect(refusal(Buffer.concat([raw, Buffer.from(field(5, 2, field(2, 2, [1])))]))).toMatch(/\(Function\.name has wire type 2 at byte \d+, expected varint\)$/);
    expect(refusal(Buffer.concat([raw, Buffer.from(varint(20 * 8 + 3))]))).toMatch(/\(field 20 of Profile has wire type 3 at byte \d+, which profile\.proto never uses\)$/);
  });
});
