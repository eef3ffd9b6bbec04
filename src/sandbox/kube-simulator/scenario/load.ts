import { readFileSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { YAMLParseError, parse as parseYaml } from 'yaml';
import type * as z from 'zod';
import { didYouMean } from '../../../core/suggest.js';
import { shippedDir } from '../../package-root.js';
import { type ScenarioDocument, scenarioSchema } from './schema.js';

/** A validated scenario and where it came from. */
export interface Scenario {
  /** The scenario's name: its file name without `.yaml`, or `inline` for text parsed directly. */
  readonly name: string;
  /** The file it was read from, for error messages. */
  readonly file: string;
  readonly document: ScenarioDocument;
}

/** A scenario that could not be read or failed validation; the message names file, key path, value and expectation. */
export class ScenarioError extends Error {
  constructor(readonly file: string, readonly problems: readonly string[]) {
    super(`invalid scenario ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ScenarioError';
  }
}

/** A scenario name that is not one of the built-in ones (and not a path): named with the closest one. */
export class UnknownScenarioError extends ScenarioError {
  constructor(name: string, known: readonly string[]) {
    super(name, []);
    this.message = `unknown drill scenario "${name}"${didYouMean(name, known)}; expected one of: ${known.join(', ')}`;
  }
}

/** The directory of the built-in scenarios. */
function scenarioDirectory(): string {
  return shippedDir('sandbox', 'scenarios');
}

/** Names of the built-in scenarios, sorted. */
export function listScenarios(): string[] {
  return readdirSync(scenarioDirectory()).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
}

/**
 * Loads a scenario by built-in name (`crashloop-after-deploy`) or by path to a YAML file (anything containing a
 * slash or ending in `.yaml`).
 */
export function loadScenario(nameOrPath: string): Scenario {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml');
  const file = isPath ? resolve(nameOrPath) : join(scenarioDirectory(), `${nameOrPath}.yaml`);
  if (!isPath) {
    const known = listScenarios();
    if (!known.includes(nameOrPath)) throw new UnknownScenarioError(nameOrPath, known);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ScenarioError(file, [code === 'ENOENT' ? 'no such file' : `cannot read: ${code ?? (error as Error).message}`]);
  }
  return { ...parseScenario(text, file), name: isPath ? basename(file).replace(/\.ya?ml$/, '') : nameOrPath };
}

/** Parses and validates scenario YAML text; `file` is only used in messages. */
export function parseScenario(text: string, file = 'inline'): Scenario {
  let raw: unknown;
  try {
    // Merge keys (`<<: *pod`) let a scenario describe near-identical pods once.
    raw = parseYaml(text, { merge: true, prettyErrors: true });
  } catch (error) {
    if (error instanceof YAMLParseError) throw new ScenarioError(file, [`YAML syntax: ${error.message}`]);
    throw error;
  }
  const result = scenarioSchema.safeParse(raw);
  if (!result.success) throw new ScenarioError(file, result.error.issues.map((i) => describeIssue(i, raw)));
  return { name: 'inline', file, document: result.data };
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key (expected one of the keys ` +
      `documented for ${path === '' ? 'the top level' : path})`).join('\n  - ');
  }
  const value = valueAt(raw, issue.path);
  const got = value === undefined ? 'missing' : `got ${JSON.stringify(value)}`;
  return `${path === '' ? '(top level)' : path}: ${got}; ${issue.message}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number'
    ? `${out}[${part}]`
    : `${out}${out === '' ? '' : '.'}${String(part)}`), '');
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let current = raw;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}
