import { gunzipSync } from 'node:zlib';
import { MAX_TOP_ROWS } from './limits.js';
import { Column, IdIndex, ProfileFormatError, doubled, readProfileProto, type DecodedProfile } from './profile-proto.js';

export { ProfileFormatError, type DecodedProfile } from './profile-proto.js';

/** The sample type `diagnose memory` ranks by: live heap bytes, the last of Go's four heap sample types. */
export const INUSE_SPACE = 'inuse_space';

/** Largest decompressed profile accepted; a real heap profile is a few MB, a hostile one must not fill memory. */
const MAX_PROFILE_BYTES = 256 * 1024 * 1024;

/** The largest output chunk asked of zlib up front, whatever size the gzip trailer claims. */
const MAX_CHUNK_BYTES = 32 * 1024 * 1024;

/** pprof's default `-nodefraction`: functions with cum at most this share of the total are left out. */
const NODE_FRACTION = 0.005;
const EDGE_FRACTION = 0.001;

/**
 * Decodes a heap profile as `/debug/pprof/heap` serves it: gzipped profile.proto (plain protobuf
 * accepted too, as `go tool pprof` does). Go's legacy text format (`?debug=1`) is named, not guessed at.
 */
export function decodeProfile(bytes: Uint8Array): DecodedProfile {
  let raw: Uint8Array = bytes;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      // gzip ends with the size it inflates to (mod 2^32): one output chunk of that size spares zlib's copies.
      const size = bytes.length >= 4 ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32LE(bytes.length - 4) : 0;
      raw = gunzipSync(bytes, { maxOutputLength: MAX_PROFILE_BYTES, chunkSize: Math.min(Math.max(size, 64 * 1024), MAX_CHUNK_BYTES) });
    } catch (error) {
      throw new ProfileFormatError(`the heap profile is not valid gzip (${(error as Error).message})`);
    }
  } else if (startsWithText(bytes, 'heap profile:')) {
    throw new ProfileFormatError('the endpoint served the legacy text heap profile (debug=1), not profile.proto');
  }
  const profile = readProfileProto(raw);
  if (profile.sampleTypes.length === 0) throw new ProfileFormatError('the heap profile has no sample types: not a profile.proto');
  return profile;
}

function startsWithText(bytes: Uint8Array, text: string): boolean {
  return Buffer.from(bytes.subarray(0, text.length)).toString('latin1') === text;
}

/** One function's share of a sample type, aggregated as `go tool pprof`'s default (functions) granularity does. */
export interface FunctionCost {
  function: string;
  /** Where it allocated most (its heaviest leaf line), else where it appears in the heaviest stack. */
  file: string;
  line: number;
  /** Value of the samples whose leaf frame is this function. */
  flat: number;
  /** Value of the samples with this function anywhere in the stack, inlined frames included, counted once per sample. */
  cum: number;
  /** How callers reach it, as pprof labels it: only through inlining, partly, or not at all (read for the MAX_TOP_ROWS heaviest). */
  inline: 'inline' | 'partial-inline' | null;
}

/** A profile reduced to one sample type: the total and each function's flat and cum. */
export interface ProfileCosts {
  sampleType: string;
  unit: string;
  /** Sum of the sample type's value over every sample. */
  total: number;
  functions: Map<string, FunctionCost>;
}

/** The names of the sample types a profile carries, e.g. `alloc_objects/count`. */
export function sampleTypesOf(profile: DecodedProfile): string[] {
  return profile.sampleTypes.map((t) => `${t.type}/${t.unit}`);
}

/**
 * Sums one sample type per function the way `go tool pprof -top` does: flat is the value of samples
 * whose leaf frame (the first line of the first location) is the function; cum counts every
 * function of the stack, inlined frames included, once per sample; total is the sum over samples.
 */
export function profileCosts(profile: DecodedProfile, sampleType: string = INUSE_SPACE): ProfileCosts {
  const index = profile.sampleTypes.findIndex((t) => t.type === sampleType);
  if (index < 0) {
    throw new ProfileFormatError(`the profile has no ${sampleType} samples; it has ${sampleTypesOf(profile).join(', ')}`);
  }
  const unit = profile.sampleTypes[index]?.unit ?? '';
  const names: string[] = [];
  const files: string[] = [];
  const keyOfName = new Map<string, number>();
  const fns = profile.functions;
  const keyOfFunction = new Int32Array(fns.id.length);
  for (let f = 0; f < fns.id.length; f += 1) {
    const name = profile.string(fns.name[f] as number) ?? '';
    let key = keyOfName.get(name);
    if (key === undefined) {
      key = names.length;
      keyOfName.set(name, key);
      names.push(name);
      files.push(profile.string(fns.filename[f] as number) ?? '');
    }
    keyOfFunction[f] = key;
  }
  const count = names.length;
  // Each line of each location as its function's key (−1: no such function); location i's lines are
  // lineStart[i]…lineStart[i + 1], a line inlined into the next one of its location. Most locations
  // have one line: `single` holds its key (or −1) so a frame costs one lookup, MULTI sends it to the lines.
  const { lineStart, lineFunctionId, lineNumber } = profile.locations;
  const functionIds = new IdIndex(fns.id);
  const lineKey = new Int32Array(lineNumber.length);
  const single = new Int32Array(lineStart.length - 1);
  // For a function that never allocated itself: the line of its first frame in the profile.
  const firstLine: Array<number | undefined> = new Array(count);
  for (let l = 0; l < single.length; l += 1) {
    const from = lineStart[l] as number;
    const to = lineStart[l + 1] as number;
    for (let j = from; j < to; j += 1) {
      const f = functionIds.of(lineFunctionId[j] as number);
      const key = f < 0 ? -1 : (keyOfFunction[f] as number);
      lineKey[j] = key;
      if (key >= 0) firstLine[key] ??= lineNumber[j];
    }
    single[l] = to - from === 1 ? (lineKey[from] as number) : to === from ? -1 : MULTI;
  }
  const flat = new Float64Array(count);
  const cum = new Float64Array(count);
  // The last sample that counted a function's cum, so each function counts once per sample without a Set.
  const stamp = new Int32Array(count).fill(-1);
  // The value of samples whose leaf is each line, to find where each function allocated most.
  const leafValue = new Float64Array(lineNumber.length);
  const leafHit = new Uint8Array(lineNumber.length);
  // The samples that count, their frames kept for the edge pass as a flat run per sample (leaf first):
  // key × 2, + 1 when the frame is inlined into the next one of its location.
  let frames = new Int32Array(1 << 16);
  let frameCount = 0;
  const sampleValue = new Column();
  const sampleEnd = new Column();
  // A cell, not a `let`: a number the callback below mutates would be boxed on every sample.
  const sum = new Float64Array(1);
  profile.forEachSample(index, (value, stack, depth) => {
    if (value === 0) return;
    const s = sampleValue.length;
    sum[0] = (sum[0] as number) + value;
    let leaf = true;
    for (let l = 0; l < depth; l += 1) {
      const location = stack[l] as number;
      if (location < 0) continue;
      const only = single[location] as number;
      const multi = only === MULTI;
      if (only === -1) continue;
      const end = multi ? (lineStart[location + 1] as number) : 1;
      for (let j = multi ? (lineStart[location] as number) : 0; j < end; j += 1) {
        const key = multi ? (lineKey[j] as number) : only;
        if (key < 0) continue;
        if (frameCount === frames.length) frames = doubled(frames);
        frames[frameCount++] = key * 2 + (j < end - 1 ? 1 : 0);
        if (leaf) {
          const line = multi ? j : (lineStart[location] as number);
          flat[key] = (flat[key] ?? 0) + value;
          leafValue[line] = (leafValue[line] ?? 0) + value;
          leafHit[line] = 1;
          leaf = false;
        }
        if (stamp[key] !== s) {
          stamp[key] = s;
          cum[key] = (cum[key] ?? 0) + value;
        }
      }
    }
    sampleValue.push(value);
    sampleEnd.push(frameCount);
  });
  const total = sum[0] as number;
  const bestLine = new Map<number, Map<number, number>>();
  for (let j = 0; j < lineNumber.length; j += 1) {
    if (!leafHit[j]) continue;
    const key = lineKey[j] as number;
    let lines = bestLine.get(key);
    if (!lines) bestLine.set(key, (lines = new Map()));
    lines.set(lineNumber[j] as number, (lines.get(lineNumber[j] as number) ?? 0) + (leafValue[j] as number));
  }
  const cutoff = Math.abs(Math.trunc(total * NODE_FRACTION));
  const kept = new Uint8Array(count);
  for (let key = 0; key < count; key += 1) kept[key] = Math.abs(cum[key] ?? 0) > cutoff ? 1 : 0;
  // Labels are read only in a table, which shows at most MAX_TOP_ROWS functions: the heaviest by flat.
  const labelled = new Int32Array(count).fill(-1);
  const heaviestKept = heaviestKeys(names, flat, cum, kept, MAX_TOP_ROWS);
  heaviestKept.forEach((key, rank) => (labelled[key] = rank));
  // pprof labels a function by its callers' edges among the functions it keeps: from the previous kept
  // frame toward the root, none to itself; an edge is inline when each sample's first call along it
  // was inlined (the callee not the last line of its location).
  const keptRank = new Int32Array(count).fill(-1);
  let keptCount = 0;
  for (let key = 0; key < count; key += 1) if (kept[key]) keptRank[key] = keptCount++;
  // pprof's -edgefraction leaves out edges lighter than 0.1% of the total.
  const edgeCutoff = Math.abs(Math.trunc(total * EDGE_FRACTION));
  const inlineIn = new Uint8Array(count);
  const callIn = new Uint8Array(count);
  // Edges in a table of (caller's kept rank × callee's rank): one lookup per frame. A profile with so
  // many kept functions that the table would pass EDGE_CELLS is read in several passes, a band of
  // callees each, so memory stays bounded.
  const band = Math.max(1, Math.min(heaviestKept.length, Math.floor(EDGE_CELLS / Math.max(1, keptCount))));
  for (let first = 0; first < heaviestKept.length; first += band) {
    const width = Math.min(band, heaviestKept.length - first);
    const weight = new Float64Array(keptCount * width);
    // The last sample that counted an edge (it counts once per sample, its first call from the root).
    const counted = new Int32Array(keptCount * width).fill(-1);
    const called = new Uint8Array(keptCount * width);
    for (let sample = 0, start = 0; sample < sampleValue.length; start = sampleEnd.at(sample), sample += 1) {
      let caller = -1;
      for (let f = sampleEnd.at(sample) - 1; f >= start; f -= 1) {
        const key = (frames[f] as number) >> 1;
        const rank = keptRank[key] as number;
        if (rank < 0) continue;
        const callee = (labelled[key] as number) - first;
        if (caller >= 0 && caller !== rank && callee >= 0 && callee < width) {
          const cell = caller * width + callee;
          if (counted[cell] !== sample) {
            counted[cell] = sample;
            weight[cell] = (weight[cell] ?? 0) + sampleValue.at(sample);
            if (((frames[f] as number) & 1) === 0) called[cell] = 1;
          }
        }
        caller = rank;
      }
    }
    for (let cell = 0; cell < weight.length; cell += 1) {
      if (counted[cell] === -1 || Math.abs(weight[cell] as number) < edgeCutoff) continue;
      (called[cell] ? callIn : inlineIn)[heaviestKept[first + (cell % width)] as number] = 1;
    }
  }
  const functions = new Map<string, FunctionCost>();
  for (let key = 0; key < count; key += 1) {
    if ((flat[key] ?? 0) === 0 && (cum[key] ?? 0) === 0) continue;
    const name = names[key] ?? '';
    functions.set(name, {
      function: name,
      file: files[key] ?? '',
      line: heaviest(bestLine.get(key)) ?? firstLine[key] ?? 0,
      flat: flat[key] ?? 0,
      cum: cum[key] ?? 0,
      inline: inlineIn[key] ? (callIn[key] ? 'partial-inline' : 'inline') : null,
    });
  }
  return { sampleType, unit, total, functions };
}

/** A location of several lines (inlined calls), read line by line. */
const MULTI = -2;

/** The most edge cells one pass over the samples keeps (13 bytes each). */
const EDGE_CELLS = 1 << 20;

/** The `n` kept functions first in pprof's order (|flat|, then name, then |cum|). */
function heaviestKeys(names: string[], flat: Float64Array, cum: Float64Array, kept: Uint8Array, n: number): number[] {
  const keys: number[] = [];
  for (let key = 0; key < names.length; key += 1) if (kept[key]) keys.push(key);
  return keys.sort((a, b) => compareCosts(
    { function: names[a] ?? '', flat: flat[a] ?? 0, cum: cum[a] ?? 0 },
    { function: names[b] ?? '', flat: flat[b] ?? 0, cum: cum[b] ?? 0 },
  )).slice(0, n);
}

/** pprof's order of a top table: |flat| descending, then the name, then |cum| descending. */
function compareCosts(a: Pick<FunctionCost, 'function' | 'flat' | 'cum'>, b: Pick<FunctionCost, 'function' | 'flat' | 'cum'>): number {
  return Math.abs(b.flat) - Math.abs(a.flat) || (a.function < b.function ? -1 : a.function > b.function ? 1 : 0) || Math.abs(b.cum) - Math.abs(a.cum);
}

function heaviest(lines: Map<number, number> | undefined): number | undefined {
  let best: number | undefined;
  let weight = -Infinity;
  for (const [line, value] of lines ?? []) {
    if (value > weight) [best, weight] = [line, value];
  }
  return best;
}

/** One row of the top table. */
export interface TopRow extends FunctionCost {
  flatShare: number;
  /** Running sum of flatShare down the table, pprof's sum%. */
  sumShare: number;
  cumShare: number;
}

/** `go tool pprof -top` for one sample type, or its `-diff_base` view. */
export interface TopTable {
  sampleType: string;
  unit: string;
  /** The unit every value is printed in, chosen as pprof's `-unit=minimum` does: `MB`, `kB`… */
  outputUnit: string;
  /** The total the shares are of: the profile's, or the base profile's in a diff. */
  total: number;
  /** Functions kept (before the top N cut). */
  functionCount: number;
  /** Functions left out as pprof does: cum at most 0.5% of the total. */
  dropped: number;
  rows: TopRow[];
}

/** The top `n` functions by flat value, ordered as pprof orders them (|flat|, then name, then |cum|). */
export function topTable(costs: ProfileCosts, n: number): TopTable {
  return tableOf(costs.sampleType, costs.unit, costs.total, [...costs.functions.values()], n, NODE_FRACTION);
}

/**
 * The `-diff_base` view: each function's flat and cum in `current` minus `base`, shares of the base
 * total, ranked by how much they changed (growth and shrinkage alike, as pprof does). Unlike pprof,
 * no change is left out for being small: a leak seen over a short `--compare` is small.
 */
export function diffTable(base: ProfileCosts, current: ProfileCosts, n: number): TopTable {
  const names = new Set([...base.functions.keys(), ...current.functions.keys()]);
  const changes: FunctionCost[] = [];
  for (const name of names) {
    const before = base.functions.get(name);
    const after = current.functions.get(name);
    const flat = (after?.flat ?? 0) - (before?.flat ?? 0);
    const cum = (after?.cum ?? 0) - (before?.cum ?? 0);
    if (flat === 0 && cum === 0) continue;
    const where = (after ?? before) as FunctionCost;
    changes.push({ ...where, flat, cum });
  }
  return tableOf(current.sampleType, current.unit, base.total, changes, n, 0);
}

function tableOf(sampleType: string, unit: string, total: number, costs: FunctionCost[], n: number, nodeFraction: number): TopTable {
  const cutoff = Math.abs(Math.trunc(total * nodeFraction));
  const kept = costs
    .filter((c) => Math.abs(c.cum) > cutoff)
    .sort(compareCosts);
  let sum = 0;
  const share = (value: number) => (total === 0 ? 0 : value / total);
  const rows = kept.slice(0, n).map((cost) => {
    sum += share(cost.flat);
    return { ...cost, flatShare: share(cost.flat), sumShare: sum, cumShare: share(cost.cum) };
  });
  return { sampleType, unit, outputUnit: minimumUnit(kept, total, unit), total, functionCount: kept.length, dropped: costs.length - kept.length, rows };
}

const MEMORY_UNITS: ReadonlyArray<[string, number]> = [
  ['B', 1],
  ['kB', 1024],
  ['MB', 1024 ** 2],
  ['GB', 1024 ** 3],
];

/** The largest unit a byte count is at least one of. */
function unitOf(bytes: number): string {
  let unit = 'B';
  for (const [name, size] of MEMORY_UNITS) if (Math.abs(bytes) >= size) unit = name;
  return unit;
}

/**
 * pprof's `-unit=minimum`: the unit of the smallest non-zero value kept (flat, else cum), or of a
 * hundred times it when the total is in a larger unit and over a hundred times bigger.
 */
function minimumUnit(kept: FunctionCost[], total: number, unit: string): string {
  if (unit !== 'bytes') return unit;
  let min = 0;
  for (const c of kept) {
    const value = Math.abs(c.flat) || Math.abs(c.cum);
    if (value > 0 && (min === 0 || value < min)) min = value;
  }
  if (min === 0) min = Math.abs(total);
  const minUnit = unitOf(min);
  return minUnit !== unitOf(total) && min * 100 < Math.abs(total) ? unitOf(100 * min) : minUnit;
}

/** A value as pprof prints it in the report's unit: two decimals with `.00` dropped, `0` for nothing. */
export function pprofValue(value: number, outputUnit: string): string {
  const size = MEMORY_UNITS.find(([name]) => name === outputUnit)?.[1];
  const text = (size === undefined ? value : value / size).toFixed(2).replace(/\.00$/, '');
  if (text === '0' || text === '-0') return '0';
  return size === undefined ? text : `${text}${outputUnit}`;
}

/** A share as pprof prints it: `100%`, `12.34%`, or two significant digits below 1%. */
export function pprofPercent(share: number): string {
  const ratio = Math.abs(share * 100);
  if (ratio >= 99.95 && ratio <= 100.05) return '100%';
  if (ratio >= 1) return `${ratio.toFixed(2)}%`;
  if (ratio === 0) return '0%';
  return `${Number(ratio.toPrecision(2))}%`;
}

/** `go tool pprof -top`'s table as text lines, headed by its "Showing nodes" line. */
export function topLines(table: TopTable): string[] {
  const shown = table.rows.reduce((n, r) => n + r.flat, 0);
  const value = (v: number) => pprofValue(v, table.outputUnit);
  const lines = [
    `Showing top ${table.rows.length} of ${table.functionCount} functions, ${value(shown)} (${pprofPercent(table.total ? shown / table.total : 0)}) of ${value(table.total)} ${table.sampleType} total` +
      (table.dropped ? `; dropped ${table.dropped} (cum <= 0.5%)` : ''),
    `${'flat'.padStart(10)} ${'flat%'.padStart(6)} ${'sum%'.padStart(6)} ${'cum'.padStart(10)} ${'cum%'.padStart(6)}  function (file:line)`,
  ];
  for (const r of table.rows) {
    const inline = r.inline ? ` (${r.inline})` : '';
    lines.push(
      `${value(r.flat).padStart(10)} ${pprofPercent(r.flatShare).padStart(6)} ${pprofPercent(r.sumShare).padStart(6)} ` +
        `${value(r.cum).padStart(10)} ${pprofPercent(r.cumShare).padStart(6)}  ${r.function}${inline} (${r.file}:${r.line})`,
    );
  }
  return lines;
}
