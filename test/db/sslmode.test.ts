import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDbPort } from '../../src/db/client.js';
import { resolveDbTarget } from '../../src/db/target.js';
import { testConfig } from '../helpers/config.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js';

const tls = (file: string) => fileURLToPath(new URL(`../../src/sandbox/kube-simulator/tls/${file}`, import.meta.url));
const UNRELATED_CA = fileURLToPath(new URL('../fixtures/tls/unrelated-ca.crt', import.meta.url));

const never = new AbortController().signal;

/** Whether the session runs over TLS, as the server sees it. */
async function overTls(url: string, env: Record<string, string> = {}): Promise<boolean> {
  const target = resolveDbTarget(testConfig({ 'database.url': url }), { HOME: '/nonexistent', ...env });
  if (!target) throw new Error('no target');
  const session = await createDbPort(target, { connectTimeoutMs: 10_000, statementTimeoutMs: 10_000, applicationName: 'aegis-ir/test' }).connect(never);
  try {
    const [row] = await session.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', [], never);
    return row?.ssl ?? false;
  } finally {
    await session.close();
  }
}

describe('sslmode, as libpq reads it', () => {
  let secure: TestPostgres;
  let plain: TestPostgres;
  beforeAll(async () => {
    [secure, plain] = await Promise.all([startTestPostgres({ tls: { certFile: tls('server.crt'), keyFile: tls('server.key') } }), startTestPostgres({})]);
  });
  afterAll(async () => {
    await Promise.all([secure?.stop(), plain?.stop()]);
  });
  const withMode = (db: TestPostgres, mode: string, extra = '') => `${db.url}${db.url.includes('?') ? '&' : '?'}sslmode=${mode}${extra}`;

  it('prefer uses TLS when the server offers it, and plain text when it does not', async () => {
    expect(await overTls(withMode(secure, 'prefer'))).toBe(true);
    expect(await overTls(withMode(plain, 'prefer'))).toBe(false);
  });

  it('prefer falling back to plain text keeps the session: a failing statement is reported as itself, not as a lost connection', async () => {
    const target = resolveDbTarget(testConfig({ 'database.url': withMode(plain, 'prefer') }), { HOME: '/nonexistent' });
    if (!target) throw new Error('no target');
    const session = await createDbPort(target, { connectTimeoutMs: 10_000, statementTimeoutMs: 10_000, applicationName: 'aegis-ir/test' }).connect(never);
    try {
      await expect(session.query('SELECT 1 / 0', [], never)).rejects.toThrow(/division by zero/);
      expect(session.usable).toBe(true);
      expect(await session.query('SELECT 1 AS one', [], never)).toEqual([{ one: 1 }]);
    } finally {
      await session.close();
    }
  });

  it('require insists on TLS', async () => {
    expect(await overTls(withMode(secure, 'require'))).toBe(true);
    await expect(overTls(withMode(plain, 'require'))).rejects.toThrow(/^the database at .* does not accept TLS \(sslmode=require\)$/);
  });

  it('verify-full checks the chain against PGSSLROOTCERT and the host name', async () => {
    expect(await overTls(withMode(secure, 'verify-full'), { PGSSLROOTCERT: tls('ca.crt') })).toBe(true);
    expect(await overTls(withMode(secure, 'verify-ca', `&sslrootcert=${encodeURIComponent(tls('ca.crt'))}`))).toBe(true);
    await expect(overTls(withMode(secure, 'verify-full'), { PGSSLROOTCERT: UNRELATED_CA })).rejects.toThrow();
  });

  it('verify-full without a root certificate is a usage error naming where to put one', async () => {
    await expect(overTls(withMode(secure, 'verify-full'))).rejects.toThrow(/sslmode=verify-full needs the root certificate .*none was given/);
  });
});
