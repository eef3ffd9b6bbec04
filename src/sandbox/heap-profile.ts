import { gzipSync } from 'node:zlib';

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
 * sharing their caller's location. Encoded field by field as protobuf writes it: zero values left out,
 * repeated integers packed.
 */
export function goHeapProfile(allocators: readonly Allocator[], at: Date): Buffer {
  const strings = new Map<string, number>([['', 0]]);
  const dedup = (text: string) => {
    let index = strings.get(text);
    if (index === undefined) strings.set(text, (index = strings.size));
    return index;
  };
  const functions = new Map<string, ProtoWriter>();
  const functionIds = new Map<string, number>();
  const locations = new Map<string, { id: number; message: ProtoWriter }>();
  const functionOf = (frame: AllocatorFrame) => {
    const key = `${frame.function}\0${frame.file}`;
    let id = functionIds.get(key);
    if (id === undefined) {
      id = functionIds.size + 1;
      const name = dedup(frame.function);
      functionIds.set(key, id);
      functions.set(key, new ProtoWriter().uint(1, id).uint(2, name).uint(3, name).uint(4, dedup(frame.file)).uint(5, Math.max(1, frame.line - 10)));
    }
    return id;
  };
  const locationOf = (group: AllocatorFrame[]) => {
    const key = group.map((f) => `${f.function}:${f.line}`).join('|');
    let location = locations.get(key);
    if (!location) {
      const id = locations.size + 1;
      const message = new ProtoWriter().uint(1, id).uint(2, 1).uint(3, 0x400000 + id * 0x40);
      for (const f of group) message.message(4, new ProtoWriter().uint(1, functionOf(f)).uint(2, f.line));
      locations.set(key, (location = { id, message }));
    }
    return location.id;
  };
  const bytesLabel = dedup('bytes');
  const profile = new ProtoWriter();
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
    return new ProtoWriter()
      .packed(1, groups.map(locationOf))
      .packed(2, [Math.max(inuseObjects, Math.round(allocBytes / a.objectBytes)), allocBytes, inuseObjects, a.inuseBytes])
      .message(3, new ProtoWriter().uint(1, bytesLabel).uint(3, a.objectBytes));
  });
  const valueType = (type: string, unit: string) => new ProtoWriter().uint(1, dedup(type)).uint(2, dedup(unit));
  for (const [type, unit] of [['alloc_objects', 'count'], ['alloc_space', 'bytes'], ['inuse_objects', 'count'], ['inuse_space', 'bytes']] as const) {
    profile.message(1, valueType(type, unit));
  }
  for (const sample of samples) profile.message(2, sample);
  profile.message(3, new ProtoWriter().uint(1, 1).uint(2, 0x400000).uint(3, 0x2000000).uint(5, dedup('/app/aegis-api')).uint(7, 1));
  for (const { message } of locations.values()) profile.message(4, message);
  for (const message of functions.values()) profile.message(5, message);
  const periodType = valueType('space', 'bytes');
  for (const text of strings.keys()) profile.text(6, text);
  profile.uint(9, BigInt(at.getTime()) * 1_000_000n).message(11, periodType).uint(12, MEM_PROFILE_RATE);
  return gzipSync(profile.bytes());
}

/** A protobuf message being written; fields go in the order they are written. */
class ProtoWriter {
  private buffer = new Uint8Array(64);
  private length = 0;

  /** An integer field (wire type 0), left out when zero as protobuf does. */
  uint(field: number, value: number | bigint): this {
    if (value === 0 || value === 0n) return this;
    return this.tag(field, 0).varint(value);
  }

  /** A repeated integer field, packed (wire type 2). */
  packed(field: number, values: readonly number[]): this {
    if (!values.length) return this;
    const inner = new ProtoWriter();
    for (const value of values) inner.varint(value);
    return this.message(field, inner);
  }

  /** A nested message, length-delimited. */
  message(field: number, message: ProtoWriter): this {
    return this.tag(field, 2).varint(message.length).append(message.bytes());
  }

  /** A string, length-delimited, written even when empty (as the string table's first entry is). */
  text(field: number, text: string): this {
    const utf8 = Buffer.from(text, 'utf8');
    return this.tag(field, 2).varint(utf8.length).append(utf8);
  }

  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  private tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  private varint(value: number | bigint): this {
    if (typeof value === 'number' && value >= 0 && value <= 0x7fffffff) {
      let rest = value;
      for (; rest > 0x7f; rest >>>= 7) this.byte((rest & 0x7f) | 0x80);
      this.byte(rest);
      return this;
    }
    let rest = BigInt(value);
    do {
      const low = Number(rest & 0x7fn);
      rest >>= 7n;
      this.byte(rest ? low | 0x80 : low);
    } while (rest);
    return this;
  }

  private append(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  private byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}
