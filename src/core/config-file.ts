import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { configFilePath, resolveConfig, type Config, type ConfigFile, type ConfigSources } from './config.js';
import { ConfigError, UsageError } from './errors.js';
import { keyPathBefore } from './yaml-location.js';

/**
 * Loads the configuration from defaults, the YAML config file, the environment and flags, in that order of
 * increasing precedence, and validates it (see {@link resolveConfig}). A module of its own, so that the YAML
 * parser loads only for a run that has a config file to read.
 */
export function loadConfig(sources: ConfigSources): Config {
  const path = configFilePath(sources);
  return resolveConfig(sources, path === null ? null : readConfigFile(path));
}

/** A config file's settings, and the line each key is on. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      'check the path given to --config or AEGIS_IR_CONFIG',
    );
  }
  const document = parseDocument(text);
  const [first] = document.errors;
  if (first) {
    const line = first.linePos?.[0];
    // The parser's first line only: the lines after it quote the file, which may hold a token.
    const reason = (first.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    const key = keyPathBefore(text, first.pos[0]);
    throw new UsageError(
      `config file ${path}${line ? `:${line.line}:${line.col}` : ''} is not valid YAML${key ? ` (at or after key ${key})` : ''}: ${reason}`,
      'correct the file; README "Configuration" documents every key',
    );
  }
  const value: unknown = document.toJS() ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(path, value, 'a YAML mapping of settings (see README "Configuration")');
  }
  return {
    path,
    data: value as Record<string, unknown>,
    lineOf: (key) => {
      const start = (document.getIn(key.split('.'), true) as { range?: [number, number, number] } | undefined)?.range?.[0];
      return start === undefined ? undefined : text.slice(0, start).split('\n').length;
    },
  };
}
