import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { lineDiff, parseConfigKey, readConfigValue, setConfigValue } from '../../src/kube/config-document.js';

/** An app config as teams write them: comments, blank lines, quoting styles, flow lists, odd spacing. */
const CONFIG = `# Aegis API configuration (managed by platform team)
server:
  addr: ":8080"   # listen address
  cors: [ "https://app.example.com", 'https://admin.example.com' ]

ai:
  # primary provider
  provider: anthropic
  model:   "claude-sonnet-4-5"
  timeout: 30s
  fallback_provider: ''   # empty: no fallback
  cache:
    enabled: false
  mode: ai

database:
  pool_max: 20
`;

describe('editing a setting in a ConfigMap YAML document', () => {
  const lines = (text: string) => text.split('\n');
  const changedLines = (before: string, after: string) => {
    const a = lines(before);
    const b = lines(after);
    return b.filter((line, i) => a[i] !== line);
  };

  it('replaces only the value, keeping its quotes, its comment and every other byte', () => {
    const after = setConfigValue(CONFIG, ['ai', 'fallback_provider'], 'openai');
    expect(changedLines(CONFIG, after)).toEqual(["  fallback_provider: 'openai'   # empty: no fallback"]);
    expect(lines(after).length).toBe(lines(CONFIG).length);
    expect(setConfigValue(CONFIG, ['ai', 'timeout'], '60s').replace('timeout: 60s', 'timeout: 30s')).toBe(CONFIG);
    expect(setConfigValue(CONFIG, ['ai', 'cache', 'enabled'], true)).toBe(CONFIG.replace('enabled: false', 'enabled: true'));
  });

  it('adds a missing key at the end of its mapping, indented like its siblings', () => {
    const after = setConfigValue(CONFIG, ['ai', 'cache', 'ttl'], '10m');
    expect(after).toBe(CONFIG.replace('    enabled: false\n', '    enabled: false\n    ttl: 10m\n'));
    const nested = setConfigValue(CONFIG, ['ai', 'retry', 'max'], 3);
    expect(nested).toBe(CONFIG.replace('  mode: ai\n', '  mode: ai\n  retry:\n    max: 3\n'));
    expect(setConfigValue('', ['ai', 'mode'], 'static')).toBe('ai:\n  mode: static\n');
  });

  it('writes a string that YAML would read as another type in quotes', () => {
    expect(readConfigValue({ 'config.yaml': setConfigValue(CONFIG, ['database', 'pool_max'], 'true') }, parseConfigKey('config.yaml#database.pool_max'))).toBe('true');
    expect(setConfigValue(CONFIG, ['database', 'pool_max'], 'true')).toContain('pool_max: "true"');
  });

  it('refuses what it cannot edit in place, naming the path', () => {
    expect(() => setConfigValue(CONFIG, ['server', 'cors', 'x'], 'y')).toThrow(UsageError);
    expect(() => setConfigValue(CONFIG, ['ai'], 'off')).toThrow(/ai is a mapping or a list/);
    expect(() => setConfigValue('- a\n- b\n', ['ai', 'mode'], 'x')).toThrow(/no YAML mapping/);
  });

  it('reads settings, unset ones as null', () => {
    const data = { 'config.yaml': CONFIG, DB_POOL_SIZE: ' 25\n' };
    expect(readConfigValue(data, parseConfigKey('config.yaml#ai.timeout'))).toBe('30s');
    expect(readConfigValue(data, parseConfigKey('config.yaml#ai.cache.enabled'))).toBe('false');
    expect(readConfigValue(data, parseConfigKey('config.yaml#ai.nothing'))).toBeNull();
    expect(readConfigValue(data, parseConfigKey('DB_POOL_SIZE'))).toBe('25');
  });

  it('shows the changed lines as a diff', () => {
    expect(lineDiff(CONFIG, setConfigValue(CONFIG, ['ai', 'timeout'], '60s'), 'cm')).toBe('--- cm (now)\n+++ cm (after)\n-  timeout: 30s\n+  timeout: 60s');
  });
});
