/**
 * A streaming reader of profile.proto (github.com/google/pprof/proto/profile.proto) that keeps only what a
 * `-top` summary needs, in typed arrays over the decoded bytes: the sample types, each sample's byte range
 * (its values and stack are read when summed, never held as objects), locations with their lines,
 * functions, and the string table as byte ranges. A 20 MB profile costs its own bytes plus a few MB.
 */

/** A profile that cannot be read, with what it was instead. */
export class ProfileFormatError extends Error {
  override readonly name = 'ProfileFormatError';
}

const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const FIXED32 = 5;

/** 2^53 − 1: the largest magnitude a number holds exactly. */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_64 = 1n << 64n;
const TWO_63 = 1n << 63n;

/** A protobuf wire reader over `[pos, end)` of one buffer. */
class WireReader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    public end: number,
  ) {}

  more(): boolean {
    return this.pos < this.end;
  }

  /**
   * A varint read as int64. Up to 7 bytes (49 bits) it is summed exactly as a number; a longer one is
   * read as a bigint and must fit in ±(2^53 − 1) — a count past 8 PiB or an id that large would be
   * rounded and could merge with another, so it is refused naming the field rather than summed wrong.
   */
  varint(field: string, number = 0): number {
    const start = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 7; i += 1) {
      if (this.pos >= this.end) throw this.truncated(field, number);
      const b = this.bytes[this.pos++] as number;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    this.pos = start;
    return this.longVarint(label(field, number));
  }

  private longVarint(field: string): number {
    let value = 0n;
    for (let i = 0; i < 10; i += 1) {
      if (this.pos >= this.end) throw this.truncated(field, 0);
      const b = this.bytes[this.pos++] as number;
      value |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) {
        value &= TWO_64 - 1n;
        if (value >= TWO_63) value -= TWO_64;
        if (value > MAX_EXACT || value < -MAX_EXACT) {
          throw new ProfileFormatError(`${field} is ${value}, beyond 2^53 where it cannot be counted exactly`);
        }
        return Number(value);
      }
    }
    throw new ProfileFormatError(`${field} is a varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** The wire type of the field `next` read. */
  wire = 0;

  /** Reads the next field's tag: its number, or 0 at the end of the message. */
  next(message: string): number {
    if (this.pos >= this.end) return 0;
    const tag = this.varint(message);
    const field = Math.floor(tag / 8);
    if (field === 0) throw new ProfileFormatError(`${message} has a field numbered 0 at byte ${this.pos}, which protobuf never writes`);
    this.wire = tag % 8;
    return field;
  }

  /** Passes over a length-delimited field's body: returns where it starts, the reader left at its end. */
  span(field: string, number = 0): number {
    const length = this.varint(field, number);
    const start = this.pos;
    if (length < 0 || start + length > this.end) throw this.truncated(field, number);
    this.pos = start + length;
    return start;
  }

  /** Passes over a field of `wire` type: `field`, or field `number` of message `field` (named only in an error). */
  skip(wire: number, field: string, number = 0): void {
    switch (wire) {
      case VARINT:
        for (let i = 0; ; i += 1) {
          if (this.pos >= this.end) throw this.truncated(field, number);
          if (i === 10) throw new ProfileFormatError(`${label(field, number)} is a varint longer than 10 bytes at byte ${this.pos}`);
          if ((this.bytes[this.pos++] as number) < 0x80) return;
        }
      case FIXED64:
        return this.advance(8, field, number);
      case BYTES:
        this.span(field, number);
        return;
      case FIXED32:
        return this.advance(4, field, number);
      default:
        throw new ProfileFormatError(`${label(field, number)} has wire type ${wire} at byte ${this.pos}, which profile.proto never uses`);
    }
  }

  /**
   * Narrows the reader to the values of a repeated integer field, packed (wire type 2) or one at a
   * time (wire type 0), as protobuf lets a writer choose; read them with `varint` while `more()`, then
   * `widen` with what this returned.
   */
  narrow(wire: number, field: string): number {
    const outer = this.end;
    const start = this.pos;
    if (wire === BYTES) {
      const values = this.span(field);
      this.end = this.pos;
      this.pos = values;
    } else if (wire === VARINT) {
      this.skip(VARINT, field);
      this.end = this.pos;
      this.pos = start;
    } else throw wrongWire(field, wire, 'varint or packed', start);
    return outer;
  }

  widen(outer: number): void {
    this.end = outer;
  }

  /** A singular integer field, which must be a varint. */
  integer(wire: number, field: string): number {
    if (wire !== VARINT) throw wrongWire(field, wire, 'varint', this.pos);
    return this.varint(field);
  }

  /** Narrows the reader to a nested message; `widen` with what this returned once it is read. */
  enter(wire: number, field: string): number {
    if (wire !== BYTES) throw wrongWire(field, wire, 'length-delimited', this.pos);
    return this.narrow(wire, field);
  }

  private advance(n: number, field: string, number: number): void {
    if (this.pos + n > this.end) throw this.truncated(field, number);
    this.pos += n;
  }

  private truncated(field: string, number: number): ProfileFormatError {
    return new ProfileFormatError(`truncated in ${label(field, number)} at byte ${this.pos} of ${this.bytes.length}`);
  }
}

/** A field's name for an error: `Sample.value`, or `field 9 of Location` for one read only to skip it. */
function label(field: string, number: number): string {
  return number ? `field ${number} of ${field}` : field;
}

/** Runs a read, a malformed profile's error reworded as what the profile is not. */
function malformed<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ProfileFormatError) throw new ProfileFormatError(`the heap profile is not a profile.proto (${error.message})`);
    throw error;
  }
}

function wrongWire(field: string, wire: number, expected: string, at: number): ProfileFormatError {
  return new ProfileFormatError(`${field} has wire type ${wire} at byte ${at}, expected ${expected}`);
}

/** A copy of `array` twice as long, to grow into. */
export function doubled(array: Int32Array): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(array.length * 2);
  grown.set(array);
  return grown;
}

/** A growing column of numbers; float64 holds every exact integer the reader accepts. */
export class Column {
  private data = new Float64Array(64);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) this.grow();
    this.data[this.length++] = value;
  }

  private grow(): void {
    const grown = new Float64Array(this.data.length * 2);
    grown.set(this.data);
    this.data = grown;
  }

  at(index: number): number {
    return this.data[index] as number;
  }

  /** The values pushed, as a view (no copy). */
  done(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** One sample type of a profile, e.g. `inuse_space` in `bytes`. */
export interface SampleType {
  type: string;
  unit: string;
}

/** A profile's functions, one entry each in profile order. */
export interface ProfileFunctions {
  id: Float64Array;
  /** String-table indexes. */
  name: Float64Array;
  filename: Float64Array;
}

/** A profile's locations; location `i`'s lines are `lineStart[i]…lineStart[i + 1]`, the callee (inlined) first. */
export interface ProfileLocations {
  id: Float64Array;
  lineStart: Float64Array;
  lineFunctionId: Float64Array;
  lineNumber: Float64Array;
}

/** A decoded profile.proto: what the top table reads, samples still in the bytes. */
export class DecodedProfile {
  private readonly locationIds: IdIndex;
  readonly sampleTypes: readonly SampleType[];

  constructor(
    private readonly bytes: Buffer,
    private readonly stringStart: Float64Array,
    private readonly stringEnd: Float64Array,
    sampleTypes: ReadonlyArray<readonly [number, number]>,
    private readonly sampleStart: Float64Array,
    private readonly sampleEnd: Float64Array,
    readonly functions: ProfileFunctions,
    readonly locations: ProfileLocations,
  ) {
    this.locationIds = new IdIndex(locations.id);
    this.sampleTypes = sampleTypes.map(([type, unit]) => ({ type: this.string(type) ?? '?', unit: this.string(unit) ?? '?' }));
  }

  /** Entry `index` of the string table; undefined past its end. */
  string(index: number): string | undefined {
    if (!(index >= 0 && index < this.stringStart.length)) return undefined;
    return this.bytes.toString('utf8', this.stringStart[index], this.stringEnd[index]);
  }

  get sampleCount(): number {
    return this.sampleStart.length;
  }

  /**
   * Visits each sample in order with its value of sample type `typeIndex` (0 when it has none) and its
   * stack as location indexes, leaf first (−1 for an id no location has). `stack` is reused between calls.
   */
  forEachSample(typeIndex: number, visit: (value: number, stack: Int32Array, depth: number, sample: number) => void): void {
    malformed(() => this.readSamples(typeIndex, visit));
  }

  private readSamples(typeIndex: number, visit: (value: number, stack: Int32Array, depth: number, sample: number) => void): void {
    let stack = new Int32Array(64);
    const reader = new WireReader(this.bytes, 0, 0);
    for (let s = 0; s < this.sampleStart.length; s += 1) {
      reader.pos = this.sampleStart[s] as number;
      reader.end = this.sampleEnd[s] as number;
      let depth = 0;
      let values = 0;
      let value = 0;
      for (let field; (field = reader.next('Sample')); ) {
        const wire = reader.wire;
        if (field === 1) {
          const outer = reader.narrow(wire, 'Sample.location_id');
          while (reader.more()) {
            if (depth === stack.length) stack = doubled(stack);
            stack[depth++] = this.locationIds.of(reader.varint('Sample.location_id'));
          }
          reader.widen(outer);
        } else if (field === 2) {
          const outer = reader.narrow(wire, 'Sample.value');
          while (reader.more()) {
            const v = reader.varint('Sample.value');
            if (values++ === typeIndex) value = v;
          }
          reader.widen(outer);
        } else reader.skip(wire, 'Sample', field);
      }
      visit(value, stack, depth, s);
    }
  }
}

/**
 * Ids → their position in a profile's list: arithmetic when they are 1…N in order (as Go and pprof
 * write them), an array when they are dense, else a map.
 */
export class IdIndex {
  private readonly dense: Int32Array | null = null;
  private readonly sparse: Map<number, number> | null = null;
  private readonly ordered: boolean;
  private readonly size: number;

  constructor(ids: Float64Array) {
    this.size = ids.length;
    this.ordered = ids.every((id, i) => id === i + 1);
    if (this.ordered) return;
    let min = 0;
    let max = 0;
    for (const id of ids) {
      min = Math.min(min, id);
      max = Math.max(max, id);
    }
    if (min >= 0 && max <= 2 * ids.length + 1024) {
      this.dense = new Int32Array(max + 1).fill(-1);
      ids.forEach((id, i) => ((this.dense as Int32Array)[id] = i));
    } else {
      this.sparse = new Map();
      ids.forEach((id, i) => (this.sparse as Map<number, number>).set(id, i));
    }
  }

  /** The position of `id`, −1 for an id nothing has; of repeated ids, the last. */
  of(id: number): number {
    if (this.ordered) return id >= 1 && id <= this.size ? id - 1 : -1;
    if (this.dense) return id >= 0 && id < this.dense.length ? (this.dense[id] as number) : -1;
    return this.sparse?.get(id) ?? -1;
  }
}

/**
 * Reads profile.proto (not gzipped) in one pass. Fields it does not need (mappings, labels, addresses,
 * times, comments…) and fields unknown to it are skipped by wire type without being decoded.
 */
export function readProfileProto(raw: Uint8Array): DecodedProfile {
  return malformed(() => readProfile(raw));
}

function readProfile(raw: Uint8Array): DecodedProfile {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const reader = new WireReader(bytes, 0, bytes.length);
  const stringStart = new Column();
  const stringEnd = new Column();
  const sampleStart = new Column();
  const sampleEnd = new Column();
  const types: Array<[number, number]> = [];
  const fnId = new Column();
  const fnName = new Column();
  const fnFile = new Column();
  const locId = new Column();
  const lineStart = new Column();
  const lineFunctionId = new Column();
  const lineNumber = new Column();
  for (let field; (field = reader.next('Profile')); ) {
    switch (field) {
      case 1: {
        const outer = reader.enter(reader.wire, 'Profile.sample_type');
        let name = 0;
        let unit = 0;
        for (let t; (t = reader.next('ValueType')); ) {
          if (t === 1) name = reader.integer(reader.wire, 'ValueType.type');
          else if (t === 2) unit = reader.integer(reader.wire, 'ValueType.unit');
          else reader.skip(reader.wire, 'ValueType', t);
        }
        reader.widen(outer);
        types.push([name, unit]);
        break;
      }
      case 2: {
        if (reader.wire !== BYTES) throw wrongWire('Profile.sample', reader.wire, 'length-delimited', reader.pos);
        sampleStart.push(reader.span('Profile.sample'));
        sampleEnd.push(reader.pos);
        break;
      }
      case 4: {
        const outer = reader.enter(reader.wire, 'Profile.location');
        let id = 0;
        lineStart.push(lineNumber.length);
        for (let t; (t = reader.next('Location')); ) {
          if (t === 1) id = reader.integer(reader.wire, 'Location.id');
          else if (t === 4) {
            const location = reader.enter(reader.wire, 'Location.line');
            let functionId = 0;
            let number = 0;
            for (let l; (l = reader.next('Line')); ) {
              if (l === 1) functionId = reader.integer(reader.wire, 'Line.function_id');
              else if (l === 2) number = reader.integer(reader.wire, 'Line.line');
              else reader.skip(reader.wire, 'Line', l);
            }
            reader.widen(location);
            lineFunctionId.push(functionId);
            lineNumber.push(number);
          } else reader.skip(reader.wire, 'Location', t);
        }
        reader.widen(outer);
        locId.push(id);
        break;
      }
      case 5: {
        const outer = reader.enter(reader.wire, 'Profile.function');
        let id = 0;
        let name = 0;
        let file = 0;
        for (let t; (t = reader.next('Function')); ) {
          if (t === 1) id = reader.integer(reader.wire, 'Function.id');
          else if (t === 2) name = reader.integer(reader.wire, 'Function.name');
          else if (t === 4) file = reader.integer(reader.wire, 'Function.filename');
          else reader.skip(reader.wire, 'Function', t);
        }
        reader.widen(outer);
        fnId.push(id);
        fnName.push(name);
        fnFile.push(file);
        break;
      }
      case 6: {
        if (reader.wire !== BYTES) throw wrongWire('Profile.string_table', reader.wire, 'length-delimited', reader.pos);
        stringStart.push(reader.span('Profile.string_table'));
        stringEnd.push(reader.pos);
        break;
      }
      default:
        reader.skip(reader.wire, 'Profile', field);
    }
  }
  lineStart.push(lineNumber.length);
  // A profile cut short between two fields reads without error; its strings (written last) are missing.
  const strings = stringStart.length;
  if (strings > 0 && stringEnd.at(0) !== stringStart.at(0)) throw new ProfileFormatError('its string table does not start with the empty string');
  const named = (index: number, what: string) => {
    if (index >= strings || index < 0) throw new ProfileFormatError(`${what} is string ${index} of a string table of ${strings}: truncated?`);
  };
  for (const [name, unit] of types) {
    named(name, 'a sample type');
    named(unit, 'a sample unit');
  }
  for (let f = 0; f < fnName.length; f += 1) {
    named(fnName.at(f), 'a function name');
    named(fnFile.at(f), 'a file name');
  }
  return new DecodedProfile(
    bytes,
    stringStart.done(),
    stringEnd.done(),
    types,
    sampleStart.done(),
    sampleEnd.done(),
    { id: fnId.done(), name: fnName.done(), filename: fnFile.done() },
    { id: locId.done(), lineStart: lineStart.done(), lineFunctionId: lineFunctionId.done(), lineNumber: lineNumber.done() },
  );
}
