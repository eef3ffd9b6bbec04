import { describe, expect, it } from 'vitest';
import { evaluateDbConnections, type DbConnectionsEvidence } from '../../src/checks/database/db-connections.js';
import type { SessionRow } from '../../src/db/activity.js';
import { resolveDbTarget } from '../../src/db/target.js';
import { testConfig } from '../helpers/config.js';

const env = { config: testConfig(), now: new Date('2026-11-26T12:00:00Z') };

function session(pid: number, state: string, inStateSeconds: number, extra: Partial<SessionRow> = {}): SessionRow {
  return {
    pid, database: 'aegis', user: 'app', application: 'aegis-api', client: '10.0.0.7', state, inStateSeconds, blockedBy: [], ...extra,
  };
}

function evidence(sessions: SessionRow[]): DbConnectionsEvidence {
  return {
    db: 'app@db:5432/aegis', database: 'aegis', refused: null, ownPid: 1, otherBackends: 5, pgbouncer: null, sessions,
    settings: { serverVersion: '16.4', maxConnections: 23, superuserReservedConnections: 3, reservedConnections: 0,
      idleSessionTimeoutMs: 0, idleInTransactionSessionTimeoutMs: 60_000 },
  };
}

const codes = (sessions: SessionRow[]) => evaluateDbConnections(evidence(sessions), env).map((f) => `${f.code} ${f.severity}`);

describe('evaluateDbConnections', () => {
  it('is informational below 80% of the usable limit (max_connections less reserved slots)', () => {
    const findings = evaluateDbConnections(evidence(Array.from({ length: 15 }, (_, i) => session(i, 'active', 1))), env);
    expect(findings[0]).toMatchObject({ code: 'AEG-2000', severity: null, evidence: { usable: 20, inUse: 15 } });
  });

  it('is SEV3 at 80% and SEV1 when every usable slot is taken', () => {
    expect(codes(Array.from({ length: 16 }, (_, i) => session(i, 'active', 1)))).toContain('AEG-2001 SEV3');
    expect(codes(Array.from({ length: 20 }, (_, i) => session(i, 'active', 1)))).toContain('AEG-2002 SEV1');
  });

  it('counts idle age from state_change against the threshold, and names lock blockers', () => {
    const found = codes([
      session(1, 'idle', 601),
      session(2, 'idle', 30),
      session(3, 'idle in transaction', 900),
      session(4, 'active', 5, { blockedBy: [3] }),
    ]);
    expect(found).toEqual(expect.arrayContaining(['AEG-2003 null', 'AEG-2004 SEV4', 'AEG-2005 SEV4', 'AEG-2006 null']));
  });

  it('reports SQLSTATE 53300 as SEV1 with the reserved-slot advice', () => {
    const [finding] = evaluateDbConnections({ ...evidence([]), refused: '53300', settings: null }, env);
    expect(finding).toMatchObject({ code: 'AEG-2002', severity: 'SEV1' });
    expect(String(finding?.evidence.reservedSlots)).toContain('pg_use_reserved_connections');
  });

  it('is SEV3 when PgBouncer has clients waiting, and says when its admin console cannot be read', () => {
    const pool = { database: 'aegis', user: 'app', clientsActive: 50, clientsWaiting: 7, serversActive: 20, serversIdle: 0, maxWaitSeconds: 3.5, mode: 'transaction' };
    const waiting = evaluateDbConnections({ ...evidence([]), pgbouncer: { url: 'postgres://pgbouncer@pgb:6432/pgbouncer', pools: [pool], error: null } }, env);
    expect(waiting.find((f) => f.code === 'AEG-2007')).toMatchObject({ severity: 'SEV3', resource: 'pgbouncer/aegis' });
    const down = evaluateDbConnections({ ...evidence([]), pgbouncer: { url: 'postgres://pgb:6432/pgbouncer', pools: null, error: 'connection refused' } }, env);
    expect(down.find((f) => f.code === 'AEG-2008')?.summary).toContain('connection refused');
  });
});

describe('resolveDbTarget', () => {
  it('is null when nothing names a database', () => {
    expect(resolveDbTarget(testConfig(), { PGPASSWORD: 'x' })).toBeNull();
  });

  it('takes the URL, lets PG* fill the gaps, and never shows the password', () => {
    const target = resolveDbTarget(testConfig({ 'database.url': 'postgres://app:s3cret@db.internal/aegis' }), { PGPORT: '6432' });
    expect(target).toMatchObject({ host: 'db.internal', port: 6432, user: 'app', database: 'aegis', password: 's3cret' });
    expect(target?.display).toBe('app@db.internal:6432/aegis');
  });

  it('works from libpq variables alone', () => {
    expect(resolveDbTarget(testConfig(), { PGHOST: 'pg', PGUSER: 'ops', PGDATABASE: 'aegis' })?.display).toBe('ops@pg:5432/aegis');
  });
});
