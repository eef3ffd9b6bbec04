import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pgpassPassword } from '../../src/db/pgpass.js';
import { resolveDbTarget } from '../../src/db/target.js';
import { testConfig } from '../helpers/config.js';

function passfile(text: string, mode = 0o600): string {
  const file = join(mkdtempSync(join(tmpdir(), 'aegis-pgpass-')), 'pgpass');
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

const query = { host: '127.0.0.1', port: 5432, database: 'aegis', user: 'app' };

describe('pgpassPassword', () => {
  it('takes the first matching line, with * matching anything', () => {
    const file = passfile('# comment\nother:5432:aegis:app:nope\n127.0.0.1:*:*:app:first\n*:*:*:*:second\n');
    expect(pgpassPassword(query, { PGPASSFILE: file })).toBe('first');
    expect(pgpassPassword({ ...query, user: 'admin' }, { PGPASSFILE: file })).toBe('second');
  });

  it('reads escaped colons and backslashes', () => {
    const file = passfile('127.0.0.1:5432:aegis:app:pa\\:ss\\\\word\n');
    expect(pgpassPassword(query, { PGPASSFILE: file })).toBe('pa:ss\\word');
  });

  it('ignores a file others can read, as libpq does', () => {
    const file = passfile('*:*:*:*:secret\n', 0o644);
    expect(pgpassPassword(query, { PGPASSFILE: file })).toBeUndefined();
  });

  it('falls back to ~/.pgpass and tolerates a missing file', () => {
    const home = mkdtempSync(join(tmpdir(), 'aegis-home-'));
    expect(pgpassPassword(query, { HOME: home })).toBeUndefined();
    writeFileSync(join(home, '.pgpass'), '*:*:aegis:app:from-home\n', { mode: 0o600 });
    expect(pgpassPassword(query, { HOME: home })).toBe('from-home');
  });

  it('gives resolveDbTarget the password a URL without one leaves out, and never shows it', () => {
    const file = passfile('127.0.0.1:5432:aegis:app:s3cret\n');
    const config = testConfig({ 'database.url': 'postgres://app@127.0.0.1:5432/aegis' });
    const target = resolveDbTarget(config, { PGPASSFILE: file });
    expect(target?.password).toBe('s3cret');
    expect(target?.display).toBe('app@127.0.0.1:5432/aegis');
    expect(resolveDbTarget(config, { PGPASSFILE: file, PGPASSWORD: 'env-wins' })?.password).toBe('env-wins');
  });
});
