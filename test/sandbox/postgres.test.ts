import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandboxPostgres } from '../../src/sandbox/postgres.js';

describe('the sandbox PostgreSQL', () => {
  let scratch: string;
  const saved = process.env['TMPDIR'];
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'aegis-ir-pg-test-'));
    // The server runs as the postgres user, which must reach its data directory below this one.
    chmodSync(scratch, 0o755);
    process.env['TMPDIR'] = scratch;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved;
    rmSync(scratch, { recursive: true, force: true });
  });

  it('starts on another free port when its port was taken before it could listen', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as AddressInfo).port;
    try {
      const server = await startSandboxPostgres({ port: taken });
      try {
        expect(server.port).not.toBe(taken);
        const client = await server.client();
        expect((await client.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
        await client.end();
      } finally {
        await server.stop();
      }
    } finally {
      holder.close();
    }
  }, 60_000);

  it('a server that cannot start is an error that says so, and leaves no directory behind', async () => {
    // PostgreSQL refuses to start when the reserved slots take every connection.
    const failure = await startSandboxPostgres({ maxConnections: 3, superuserReserved: 3 })
      .then(async (server) => server.stop(), (error: unknown) => error);
    // Not `rejects.toThrow`: it also passes for a rejection with no reason at all, which is what is being ruled out.
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('PostgreSQL exited before accepting connections (see its log)');
    expect(readdirSync(scratch)).toEqual([]);
  }, 60_000);
});
