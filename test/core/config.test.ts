import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DEFAULTS } from '../../src/core/config-defaults.js';
import { configSchema } from '../../src/core/config.js';
import { loadConfig } from '../../src/core/config-file.js';
import { UsageError } from '../../src/core/errors.js';

function configFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'aegis-config-')), 'config.yaml');
  writeFileSync(path, text);
  return path;
}

describe('loadConfig', () => {
  it('gives the runbook defaults with no file', () => {
    const config = loadConfig({ env: { HOME: '/nonexistent' }, flags: {} });
    expect(config.namespace).toBe('aegis');
    expect(config.app.selector).toBe('app=aegis-api');
    expect(config.thresholds.errorRate.sev3).toBe(0.001);
    expect(config.thresholds.latencyP99).toBe(500);
    expect(config.timeout).toBe(30_000);
    expect(config.failOn).toBe('SEV4');
  });

  it('applies flag > environment > file > default', () => {
    const file = configFile('namespace: from-file\ntimeout: 45s\nfailOn: SEV3\n');
    const fromFile = loadConfig({ file, env: {}, flags: {} });
    expect([fromFile.namespace, fromFile.timeout, fromFile.failOn]).toEqual(['from-file', 45_000, 'SEV3']);
    const fromEnv = loadConfig({ file, env: { AEGIS_IR_NAMESPACE: 'from-env' }, flags: {} });
    expect(fromEnv.namespace).toBe('from-env');
    const fromFlag = loadConfig({ file, env: { AEGIS_IR_NAMESPACE: 'from-env' }, flags: { namespace: 'from-flag' } });
    expect(fromFlag.namespace).toBe('from-flag');
    expect(fromFlag.timeout).toBe(45_000);
  });

  it('keeps every KUBECONFIG entry, in order, for merging like kubectl; --kubeconfig stays one file', () => {
    const env = { KUBECONFIG: '/a/config::/b/config', HOME: '/x' };
    expect(loadConfig({ env, flags: {} }).kubeconfig).toEqual(['/a/config', '/b/config']);
    expect(loadConfig({ env, flags: { kubeconfig: '/c/config' } }).kubeconfig).toBe('/c/config');
    expect(loadConfig({ env: { KUBECONFIG: ':', HOME: '/x' }, flags: {} }).kubeconfig).toBeUndefined();
  });

  it('reads severities in any case, from a flag, the environment or the file', () => {
    expect(loadConfig({ env: { AEGIS_IR_FAIL_ON: 'sev2' }, flags: {} }).failOn).toBe('SEV2');
    expect(loadConfig({ file: configFile('failOn: Never\n'), env: {}, flags: {} }).failOn).toBe('never');
    expect(() => loadConfig({ env: { AEGIS_IR_FAIL_ON: 'sev5' }, flags: {} })).toThrow(/AEGIS_IR_FAIL_ON.*"sev5"/);
  });

  it('takes -l/--selector, --deployment and --container over the config file', () => {
    const file = configFile('app:\n  deployment: from-file\n  selector: app=from-file\n');
    const config = loadConfig({ file, env: {}, flags: { 'app.selector': 'tier=api', 'app.deployment': 'api', 'app.container': 'main' } });
    expect(config.app).toMatchObject({ selector: 'tier=api', deployment: 'api', container: 'main' });
  });

  it('names an unknown key, where it came from and the keys it expected', () => {
    const file = configFile('thresholds:\n  errorRat: 0.2\n');
    const error = catchError(() => loadConfig({ file, env: {}, flags: {} }));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain(file);
    expect(error.message).toContain('unknown key "thresholds.errorRat"');
    expect(error.message).toContain('errorRate');
  });

  it('names a bad value, the key and what was expected', () => {
    const file = configFile('thresholds:\n  errorRate:\n    sev2: lots\n');
    const error = catchError(() => loadConfig({ file, env: {}, flags: {} }));
    expect(error.message).toMatch(/thresholds\.errorRate\.sev2: "lots" is not valid; expected a value of type number/);
    // The file and the line the key is on.
    expect(error.message.startsWith(`${file}:3: thresholds.errorRate.sev2: `)).toBe(true);
  });

  it('says which flag carried a bad duration', () => {
    const error = catchError(() => loadConfig({ env: {}, flags: { timeout: 'soon' } }));
    expect(error.message).toMatch(/^--timeout: "soon" is not valid; expected a duration/);
  });

  it('names the flag as it is typed, not as the config key spells it', () => {
    const error = catchError(() => loadConfig({ env: {}, flags: { 'database.idleOlderThan': 'soon' } }));
    expect(error.message).toMatch(/^--idle-older-than: "soon" is not valid; expected a duration/);
  });

  it('refuses a zero deadline, which would fail every check before it starts', () => {
    expect(catchError(() => loadConfig({ env: {}, flags: { timeout: '0s' } })).message).toMatch(
      /^--timeout: "0s" is not valid; expected a duration above zero/,
    );
  });

  it('refuses a config file that does not exist when one is named', () => {
    expect(() => loadConfig({ file: '/nonexistent/aegis.yaml', env: {}, flags: {} })).toThrow(/cannot read config file/);
  });

  it('points at the line of a YAML syntax error', () => {
    const file = configFile('namespace: [unclosed\n');
    expect(() => loadConfig({ file, env: {}, flags: {} })).toThrow(/is not valid YAML/);
  });

  it('names the file, line and key of a YAML syntax error, never the value', () => {
    const file = configFile('namespace: aegis\nnotify:\n  slack:\n    token: "xoxb-s3cret\n    channel: ops\n');
    let message = '';
    try {
      loadConfig({ file, env: {}, flags: {} });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(`config file ${file}:6:1 is not valid YAML (at or after key notify.slack.token): Missing closing "quote`);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('secrets in configuration errors', () => {
  it('never repeats a token, and shows a URL without its password', () => {
    const file = configFile("prometheus:\n  token: ''\n");
    expect(catchError(() => loadConfig({ file, env: {}, flags: {} })).message).toMatch(/prometheus\.token: "<redacted>" is not valid/);
    const urlError = catchError(() => loadConfig({ env: {}, flags: { 'prometheus.url': 'ftp://admin:hunter2@metrics:9090' } }));
    expect(urlError.message).toMatch(/^--prometheus-url: "ftp:\/\/admin:\*\*\*@metrics:9090" is not valid/);
    expect(urlError.message).not.toContain('hunter2');
  });
});

/**
 * `CONFIG_DEFAULTS` is generated from the schemas: a run takes every key it is not given from it, without
 * building that key's schema. Regenerate it after changing a default:
 *   AEGIS_UPDATE_GOLDENS=1 npx vitest run test/core/config.test.ts
 */
describe('CONFIG_DEFAULTS', () => {
  const file = new URL('../../src/core/config-defaults.ts', import.meta.url);
  const fromSchemas = configSchema().parse({});

  it('is what the schemas give a configuration with no key', () => {
    if (process.env.AEGIS_UPDATE_GOLDENS === '1') {
      const header = readFileSync(file, 'utf8').split('export const CONFIG_DEFAULTS')[0];
      writeFileSync(file, `${header}export const CONFIG_DEFAULTS: Config = ${JSON.stringify(fromSchemas, null, 2)};\n`);
    }
    expect(CONFIG_DEFAULTS, 'src/core/config-defaults.ts differs from the schemas: regenerate it with AEGIS_UPDATE_GOLDENS=1 npx vitest run test/core/config.test.ts').toEqual(fromSchemas);
  });

  it('is what a run given only some keys has for every other key', () => {
    const config = loadConfig({ env: { HOME: '/nonexistent', AEGIS_IR_AUDIT_LOG: '/tmp/audit.jsonl' }, flags: { output: 'json', 'app.deployment': 'api' } });
    expect(config).toEqual({ ...fromSchemas, output: 'json', app: { ...fromSchemas.app, deployment: 'api' }, audit: { path: '/tmp/audit.jsonl' } });
  });

  it('is a copy for every run: a run changing its configuration leaves the next one its defaults', () => {
    const first = loadConfig({ env: { HOME: '/nonexistent' }, flags: {} });
    first.app.productionNamespaces.push('changed');
    first.aiProvider.providers.length = 0;
    expect(loadConfig({ env: { HOME: '/nonexistent' }, flags: {} })).toEqual(fromSchemas);
  });
});
