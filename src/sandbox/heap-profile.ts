import { gzipSync } from 'node:zlib';
import { Function as ProfileFunction, Line, Location, Mapping, Profile, Sample, StringTable, ValueType } from 'pprof-format';

/** One frame of an allocating stack, leaf first. */
export interface AllocatorFrame {
  function: string;
  file: string;
  line: number;
  /** Inlined into the next frame (its caller): both share one location, as the Go compiler emits them. */
  inlined?: boolean;
}

/** Live heap held by one call stack, from which the four Go heap sample values follow. */
export interface Allocator {
  stack: AllocatorFrame[];
  /** inuse_space in bytes. */
  inuseBytes: number;
  /** Size of each object (the `bytes` label); inuse_objects is inuseBytes over it. */
  objectBytes: number;
  /** alloc_space as a multiple of inuse_space: what was allocated and since freed. */
  allocFactor: number;
}

/** Go's MemProfileRate: one sample per 512 KiB allocated, the profile's period. */
const MEM_PROFILE_RATE = 512 * 1024;

/**
 * A heap profile shaped as Go's runtime/pprof writes it for `/debug/pprof/heap`: gzipped profile.proto
 * with the sample types alloc_objects/count, alloc_space/bytes, inuse_objects/count and
 * inuse_space/bytes (the last, pprof's default), period space/bytes, one mapping, and inlined frames
 * sharing their caller's location.
 */
export function goHeapProfile(allocators: readonly Allocator[], at: Date): Buffer {
  const strings = new StringTable();
  const functions = new Map<string, ProfileFunction>();
  const locations = new Map<string, Location>();
  const functionOf = (frame: AllocatorFrame) => {
    const key = `${frame.function}\0${frame.file}`;
    let fn = functions.get(key);
    if (!fn) {
      const name = strings.dedup(frame.function);
      fn = new ProfileFunction({ id: functions.size + 1, name, systemName: name, filename: strings.dedup(frame.file), startLine: Math.max(1, frame.line - 10) });
      functions.set(key, fn);
    }
    return fn;
  };
  const locationOf = (group: AllocatorFrame[]) => {
    const key = group.map((f) => `${f.function}:${f.line}`).join('|');
    let location = locations.get(key);
    if (!location) {
      const id = locations.size + 1;
      location = new Location({
        id,
        mappingId: 1,
        address: 0x400000 + id * 0x40,
        line: group.map((f) => new Line({ functionId: functionOf(f).id, line: f.line })),
      });
      locations.set(key, location);
    }
    return location;
  };
  const bytesLabel = strings.dedup('bytes');
  const samples = allocators.map((a) => {
    const groups: AllocatorFrame[][] = [];
    let group: AllocatorFrame[] = [];
    for (const frame of a.stack) {
      group.push(frame);
      if (!frame.inlined) {
        groups.push(group);
        group = [];
      }
    }
    if (group.length) groups.push(group);
    const inuseObjects = Math.max(1, Math.round(a.inuseBytes / a.objectBytes));
    const allocBytes = Math.round(a.inuseBytes * a.allocFactor);
    return new Sample({
      locationId: groups.map((g) => locationOf(g).id),
      value: [Math.max(inuseObjects, Math.round(allocBytes / a.objectBytes)), allocBytes, inuseObjects, a.inuseBytes],
      label: [{ key: bytesLabel, num: a.objectBytes }],
    });
  });
  const valueType = (type: string, unit: string) => new ValueType({ type: strings.dedup(type), unit: strings.dedup(unit) });
  const profile = new Profile({
    sampleType: [valueType('alloc_objects', 'count'), valueType('alloc_space', 'bytes'), valueType('inuse_objects', 'count'), valueType('inuse_space', 'bytes')],
    sample: samples,
    mapping: [new Mapping({ id: 1, memoryStart: 0x400000, memoryLimit: 0x2000000, filename: strings.dedup('/app/aegis-api'), hasFunctions: true })],
    location: [...locations.values()],
    function: [...functions.values()],
    stringTable: strings,
    timeNanos: BigInt(at.getTime()) * 1_000_000n,
    periodType: valueType('space', 'bytes'),
    period: MEM_PROFILE_RATE,
  });
  return gzipSync(profile.encode());
}
