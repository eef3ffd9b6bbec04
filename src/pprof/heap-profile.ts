import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { MAX_TOP_ROWS } from './limits.js';

/** The sample type `diagnose memory` ranks by: live heap bytes, the last of Go's four heap sample types. */
export const INUSE_SPACE = 'inuse_space';

/** Largest decompressed profile accepted; a real heap profile is a few MB, a hostile one must not fill memory. */
const MAX_PROFILE_BYTES = 256 * 1024 * 1024;

/** pprof's default `-nodefraction`: functions with cum at most this share of the total are left out. */
const NODE_FRACTION = 0.005;
const EDGE_FRACTION = 0.001;

/** A profile that cannot be read, with what it was instead. */
export class ProfileFormatError extends Error {
  override readonly name = 'ProfileFormatError';
}

/** pprof-format decodes 64-bit fields as a number, or as a bigint once they pass 2^28. */
type Numeric = number | bigint;

function num(value: Numeric | undefined): number {
  return typeof value === 'bigint' ? Number(value) : (value ?? 0);
}

/**
 * Decodes a heap profile as `/debug/pprof/heap` serves it: gzipped profile.proto (plain protobuf
 * accepted too, as `go tool pprof` does). Go's legacy text format (`?debug=1`) is named, not guessed at.
 */
export function decodeProfile(bytes: Uint8Array): Profile {
  let raw: Uint8Array = bytes;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      raw = gunzipSync(bytes, { maxOutputLength: MAX_PROFILE_BYTES });
    } catch (error) {
      throw new ProfileFormatError(`the heap profile is not valid gzip (${(error as Error).message})`);
    }
  } else if (startsWithText(bytes, 'heap profile:')) {
    throw new ProfileFormatError('the endpoint served the legacy text heap profile (debug=1), not profile.proto');
  }
  let profile: Profile;
  try {
    profile = Profile.decode(raw);
  } catch (error) {
    throw new ProfileFormatError(`the heap profile is not a profile.proto (${(error as Error).message})`);
  }
  if (profile.sampleType.length === 0) throw new ProfileFormatError('the heap profile has no sample types: not a profile.proto');
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
export function sampleTypesOf(profile: Profile): string[] {
  const strings = profile.stringTable.strings;
  return profile.sampleType.map((t) => `${strings[num(t.type)] ?? '?'}/${strings[num(t.unit)] ?? '?'}`);
}

interface FrameInfo {
  /** Index into the function list (one per distinct name). */
  key: number;
  line: number;
  /** Called by the next frame of the same location, i.e. inlined into it. */
  inlined: boolean;
}

/**
 * Sums one sample type per function the way `go tool pprof -top` does: flat is the value of samples
 * whose leaf frame (the first line of the first location) is the function; cum counts every
 * function of the stack, inlined frames included, once per sample; total is the sum over samples.
 */
export function profileCosts(profile: Profile, sampleType: string = INUSE_SPACE): ProfileCosts {
  const strings = profile.stringTable.strings;
  const index = profile.sampleType.findIndex((t) => strings[num(t.type)] === sampleType);
  if (index < 0) {
    throw new ProfileFormatError(`the profile has no ${sampleType} samples; it has ${sampleTypesOf(profile).join(', ')}`);
  }
  const unit = strings[num(profile.sampleType[index]?.unit)] ?? '';
  const names: string[] = [];
  const files: string[] = [];
  const keyOfName = new Map<string, number>();
  const keyOfFunction = new Map<number, number>();
  for (const fn of profile.function) {
    const name = strings[num(fn.name)] ?? '';
    let key = keyOfName.get(name);
    if (key === undefined) {
      key = names.length;
      keyOfName.set(name, key);
      names.push(name);
      files.push(strings[num(fn.filename)] ?? '');
    }
    keyOfFunction.set(num(fn.id), key);
  }
  const count = names.length;
  // For a function that never allocated itself: the line of its first frame in the profile.
  const firstLine: Array<number | undefined> = new Array(count);
  // By location id: Go numbers them 1…N, so an array indexes them.
  const frames: FrameInfo[][] = [];
  for (const location of profile.location) {
    const lines = location.line;
    const infos = lines.map((l, i) => ({ key: keyOfFunction.get(num(l.functionId)) ?? -1, line: num(l.line), inlined: i < lines.length - 1 }));
    for (const info of infos) if (info.key >= 0) firstLine[info.key] ??= info.line;
    frames[num(location.id)] = infos;
  }
  const flat = new Float64Array(count);
  const cum = new Float64Array(count);
  // The last sample that counted a function's cum, so each function counts once per sample without a Set.
  const stamp = new Int32Array(count).fill(-1);
  const inlineIn = new Uint8Array(count);
  const callIn = new Uint8Array(count);
  const bestLine = new Map<number, Map<number, number>>();
  const weigh = (key: number, line: number, value: number) => {
    let lines = bestLine.get(key);
    if (!lines) bestLine.set(key, (lines = new Map()));
    lines.set(line, (lines.get(line) ?? 0) + value);
  };
  let total = 0;
  const samples = profile.sample;
  for (let s = 0; s < samples.length; s += 1) {
    const sample = samples[s] as (typeof samples)[number];
    const value = num(sample.value[index]);
    if (value === 0) continue;
    total += value;
    let leaf = true;
    for (const id of sample.locationId) {
      for (const frame of frames[num(id)] ?? []) {
        if (frame.key < 0) continue;
        if (leaf) {
          flat[frame.key] = (flat[frame.key] ?? 0) + value;
          weigh(frame.key, frame.line, value);
          leaf = false;
        }
        if (stamp[frame.key] !== s) {
          stamp[frame.key] = s;
          cum[frame.key] = (cum[frame.key] ?? 0) + value;
        }
      }
    }
  }
  const cutoff = Math.abs(Math.trunc(total * NODE_FRACTION));
  const kept = (key: number) => Math.abs(cum[key] ?? 0) > cutoff;
  // Labels are read only in a table, which shows at most MAX_TOP_ROWS functions: the heaviest by flat.
  const labelled = new Uint8Array(count);
  for (const key of heaviestKeys(names, flat, cum, kept, MAX_TOP_ROWS)) labelled[key] = 1;
  // pprof labels a function by its callers' edges among the functions it keeps: from the previous kept
  // frame toward the root, none to itself; an edge is inline when each sample's first call along it
  // was inlined (the callee not the last line of its location).
  const edges = new Map<number, { inlined: boolean; weight: number }>();
  // Like cum, an edge counts once per sample: its first call from the root.
  const edgeStamp = new Map<number, number>();
  for (let s = 0; s < samples.length; s += 1) {
    const sample = samples[s] as (typeof samples)[number];
    if (num(sample.value[index]) === 0) continue;
    let caller = -1;
    for (let l = sample.locationId.length - 1; l >= 0; l -= 1) {
      const location = frames[num(sample.locationId[l])] ?? [];
      for (let f = location.length - 1; f >= 0; f -= 1) {
        const frame = location[f] as FrameInfo;
        if (frame.key < 0 || !kept(frame.key)) continue;
        if (caller >= 0 && caller !== frame.key && labelled[frame.key]) {
          const edge = caller * count + frame.key;
          if (edgeStamp.get(edge) !== s) {
            edgeStamp.set(edge, s);
            const seen = edges.get(edge);
            const value = num(sample.value[index]);
            edges.set(edge, { inlined: (seen?.inlined ?? true) && frame.inlined, weight: (seen?.weight ?? 0) + value });
          }
        }
        caller = frame.key;
      }
    }
  }
  // pprof's -edgefraction leaves out edges lighter than 0.1% of the total.
  const edgeCutoff = Math.abs(Math.trunc(total * EDGE_FRACTION));
  for (const [edge, { inlined, weight }] of edges) {
    if (Math.abs(weight) >= edgeCutoff) (inlined ? inlineIn : callIn)[edge % count] = 1;
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

/** The `n` kept functions first in pprof's order (|flat|, then name, then |cum|). */
function heaviestKeys(names: string[], flat: Float64Array, cum: Float64Array, kept: (key: number) => boolean, n: number): number[] {
  const keys: number[] = [];
  for (let key = 0; key < names.length; key += 1) if (kept(key)) keys.push(key);
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
