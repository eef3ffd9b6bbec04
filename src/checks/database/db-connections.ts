import { readClientSessions, readSettings, type ConnectionSettings, type SessionRow } from '../../db/activity.js';
import { RESERVED_SLOT_ADVICE, TooManyConnectionsError, type ConnectionLimit } from '../../db/errors.js';
import { readPgBouncerPools, type PoolRow } from '../../db/pgbouncer.js';
import type { DbSession } from '../../db/port.js';
import { displayUrl } from '../../core/redact.js';
import { formatDuration } from '../../core/duration.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import type { Context } from '../../core/context.js';
import { SkipCheck, defineCheck, type EvaluationEnv } from '../check.js';
import { DATABASE_FINDINGS as F } from './findings.js';

/** Evidence of the db-connections check: the server's client sessions, its limits and PgBouncer's pools. */
export interface DbConnectionsEvidence {
  /** `user@host:port/database`, never with the password. */
  db: string;
  database: string;
  /** SQLSTATE of the refusal when the tool's own connection was refused (53300), else null. */
  refused: string | null;
  /** Whose limit refused it: the server's, or a role's or database's CONNECTION LIMIT (absent: the server's). */
  limit?: ConnectionLimit | null;
  settings: ConnectionSettings | null;
  ownPid: number | null;
  /** Every client backend of the server, all databases. */
  sessions: SessionRow[];
  /** Background workers, autovacuum, WAL senders: in `pg_stat_activity` but not against `max_connections`. */
  otherBackends: number;
  pgbouncer: { url: string; pools: PoolRow[] | null; error: string | null } | null;
}

/** The usable limit and what uses it, derived from the evidence. */
export interface ConnectionUsage {
  inUse: number;
  maxConnections: number;
  reserved: { superuser: number; roles: number | null };
  usable: number;
  saturation: number;
  byState: Record<string, number>;
  byUser: Record<string, number>;
  byApplication: Record<string, number>;
  byClient: Record<string, number>;
  byDatabase: Record<string, number>;
}

/** Every client backend and the usable limit: `max_connections` less the slots ordinary roles cannot use. */
export function connectionUsage(settings: ConnectionSettings, sessions: SessionRow[]): ConnectionUsage {
  const reservedRoles = settings.reservedConnections;
  const usable = Math.max(1, settings.maxConnections - settings.superuserReservedConnections - (reservedRoles ?? 0));
  return {
    inUse: sessions.length,
    maxConnections: settings.maxConnections,
    reserved: { superuser: settings.superuserReservedConnections, roles: reservedRoles },
    usable,
    saturation: sessions.length / usable,
    byState: countBy(sessions, (s) => s.state ?? 'unknown (no pg_read_all_stats)'),
    byUser: countBy(sessions, (s) => s.user ?? '?'),
    byApplication: countBy(sessions, (s) => s.application || '(none)'),
    byClient: countBy(sessions, (s) => s.client ?? '?'),
    byDatabase: countBy(sessions, (s) => s.database ?? '?'),
  };
}

/**
 * PostgreSQL connections (runbook "Database Connection Failures": the `pg_stat_activity` count and
 * `SHOW max_connections`, done properly). Reads client backends by state, user, application and client
 * against `max_connections` less the reserved slots; idle sessions by `state_change` (how long they have
 * been idle — `query_start` is when the last query began, which makes a session that just finished a long
 * query look idle for ages); the oldest idle-in-transaction; lock waits and their blockers; the idle
 * timeouts; and PgBouncer's `SHOW POOLS` when an admin URL is configured. A refused connection
 * (SQLSTATE 53300) is itself the evidence of SPEC's SEV1 "database refusing all connections".
 */
export const dbConnectionsCheck = defineCheck<DbConnectionsEvidence>({
  id: 'db-connections',
  title: 'PostgreSQL connections',
  target: 'database',
  collect: collectDbConnections,
  evaluate: evaluateDbConnections,
});

/**
 * Reads the evidence; also what `fix db-connections` runs again to verify, on the session it already
 * has open (`open`, left open), so verifying takes no second connection.
 */
export async function collectDbConnections(ctx: Context, open?: DbSession): Promise<DbConnectionsEvidence> {
  const port = ctx.db();
  if (!port) throw new SkipCheck('no database configured (pass --database-url, set DATABASE_URL or the PG* variables, or database.url)');
  const { target } = port;
  const pgbouncerUrl = ctx.config.database.pgbouncerUrl;
  const pgbouncer = pgbouncerUrl ? readPgBouncer(ctx, pgbouncerUrl) : Promise.resolve(null);
  const base = { db: target.display, database: target.database };
  let session = open;
  if (!session) {
    try {
      session = await port.connect(ctx.signal);
    } catch (error) {
      if (!(error instanceof TooManyConnectionsError)) throw error;
      return { ...base, refused: error.sqlstate, limit: error.limit, settings: null, ownPid: null, sessions: [], otherBackends: 0, pgbouncer: await pgbouncer };
    }
  }
  try {
    const settings = await readSettings(session, ctx.signal);
    const activity = await readClientSessions(session, ctx.signal);
    return { ...base, refused: null, settings, ownPid: session.pid, sessions: activity.sessions, otherBackends: activity.otherBackends, pgbouncer: await pgbouncer };
  } finally {
    if (!open) await session.close();
  }
}

async function readPgBouncer(ctx: Context, url: string): Promise<DbConnectionsEvidence['pgbouncer']> {
  try {
    const port = ctx.pgbouncer();
    if (!port) return null;
    return { url: displayUrl(url), pools: await readPgBouncerPools(port, ctx.signal), error: null };
  } catch (error) {
    return { url: displayUrl(url), pools: null, error: (error as Error).message };
  }
}

/** Pure evaluation of {@link DbConnectionsEvidence}; see {@link dbConnectionsCheck} for what it reads. */
export function evaluateDbConnections(evidence: DbConnectionsEvidence, env: EvaluationEnv): Finding[] {
  const check = 'db-connections';
  const resource = `database/${evidence.database}`;
  const thresholdMs = env.config.database.idleOlderThan;
  const olderThan = formatDuration(thresholdMs);
  const findings: Finding[] = [];
  const advice = adviceFor(evidence);
  // Every pool PgBouncer reported, waiting or not, so the pooler's view sits beside the server's.
  const bouncer = evidence.pgbouncer;
  const pools = bouncer?.pools ? { pgbouncer: { url: bouncer.url, pools: bouncer.pools } } : {};
  if (evidence.refused && evidence.limit && evidence.limit.of !== 'server') {
    // A role's or a database's own limit: that role or database is stuck, the server is not full.
    const { of, name } = evidence.limit;
    findings.push(
      makeFinding(F.connectionLimitReached, {
        check,
        params: { db: evidence.db, of, name: name ?? '?' },
        resource: of === 'database' ? `database/${name}` : `role/${name}`,
        evidence: { sqlstate: evidence.refused, limit: evidence.limit, advice: `raise it (ALTER ${of.toUpperCase()} ${name ?? '?'} CONNECTION LIMIT n) or close that ${of}'s idle sessions` },
      }),
    );
    return [...findings, ...pgbouncerFindings(evidence, check)];
  }
  if (evidence.refused || !evidence.settings) {
    findings.push(
      makeFinding(F.connectionsRefused, {
        check,
        params: { db: evidence.db, reason: `too many connections (SQLSTATE ${evidence.refused ?? '53300'})` },
        resource,
        evidence: { sqlstate: evidence.refused, reservedSlots: RESERVED_SLOT_ADVICE, advice, ...pools },
        next: ['aegis-ir diagnose db-connections'],
      }),
    );
    return [...findings, ...pgbouncerFindings(evidence, check)];
  }
  const usage = connectionUsage(evidence.settings, evidence.sessions);
  const percent = Math.round(usage.saturation * 100);
  const states = Object.entries(usage.byState).map(([state, n]) => `${n} ${state}`).join(', ') || 'none';
  const usageEvidence = { ...usage, saturation: Number(usage.saturation.toFixed(4)), otherBackends: evidence.otherBackends, ownPid: evidence.ownPid, ...pools };
  const idle = evidence.sessions.filter((s) => s.state === 'idle' && (s.inStateSeconds ?? 0) * 1000 > thresholdMs);
  const fixIdle = `aegis-ir fix db-connections --dry-run${thresholdMs === 600_000 ? '' : ` --idle-older-than ${olderThan}`}`;
  if (usage.inUse >= usage.usable) {
    findings.push(
      makeFinding(F.connectionsRefused, {
        check,
        params: { db: evidence.db, reason: `all ${usage.usable} usable connections are in use; ordinary roles get SQLSTATE 53300` },
        resource,
        evidence: { ...usageEvidence, reservedSlots: RESERVED_SLOT_ADVICE, advice },
        next: [fixIdle],
      }),
    );
  } else {
    const near = usage.saturation >= env.config.thresholds.connectionSaturation;
    findings.push(
      makeFinding(near ? F.connectionsNearLimit : F.connectionUsage, {
        check,
        params: { inUse: usage.inUse, usable: usage.usable, percent, states },
        resource,
        evidence: near ? { ...usageEvidence, advice } : usageEvidence,
        next: near ? [fixIdle] : [],
      }),
    );
  }
  // Idle time is now() - state_change: query_start would date a session that just finished a long query.
  const longIdle = (kind: typeof F.idleSessions, sessions: SessionRow[], next: string) => {
    if (!sessions.length) return;
    findings.push(
      makeFinding(kind, {
        check,
        params: { count: sessions.length, olderThan, oldest: describeSession(longestInState(sessions)) },
        resource,
        evidence: { measuredBy: 'now() - state_change', sessions: sessions.slice(0, 20).map(sessionSummary) },
        next: [next],
      }),
    );
  };
  longIdle(F.idleSessions, idle, fixIdle);
  longIdle(
    F.idleInTransaction,
    evidence.sessions.filter((s) => s.state?.startsWith('idle in transaction') && (s.inStateSeconds ?? 0) * 1000 > thresholdMs),
    `${fixIdle} --include-idle-in-transaction`,
  );
  const waiting = evidence.sessions.filter((s) => s.blockedBy.length > 0);
  if (waiting.length) {
    const byPid = new Map(evidence.sessions.map((s) => [s.pid, s]));
    const blockerPids = [...new Set(waiting.flatMap((s) => s.blockedBy))];
    findings.push(
      makeFinding(F.lockWaits, {
        check,
        params: {
          waiting: waiting.length,
          blockers: blockerPids.slice(0, 3).map((pid) => describeSession(byPid.get(pid), pid)).join('; '),
        },
        resource,
        evidence: {
          waiting: waiting.slice(0, 20).map((s) => ({ ...sessionSummary(s), blockedBy: s.blockedBy })),
          blockers: blockerPids.slice(0, 20).map((pid) => {
            const blocker = byPid.get(pid);
            return blocker ? sessionSummary(blocker) : { pid };
          }),
        },
      }),
    );
  }
  const off = [
    evidence.settings.idleSessionTimeoutMs === 0 ? 'idle_session_timeout' : null,
    evidence.settings.idleInTransactionSessionTimeoutMs === 0 ? 'idle_in_transaction_session_timeout' : null,
  ].filter((name): name is string => name !== null);
  if (off.length) {
    findings.push(
      makeFinding(F.noIdleTimeouts, {
        check,
        params: { settings: `${off.join(' and ')} ${off.length > 1 ? 'are' : 'is'}` },
        resource,
        evidence: {
          idle_session_timeout: evidence.settings.idleSessionTimeoutMs,
          idle_in_transaction_session_timeout: evidence.settings.idleInTransactionSessionTimeoutMs,
          advice: `e.g. ALTER ROLE <app role> SET idle_in_transaction_session_timeout = '5min'; set idle_session_timeout above the app pool's own idle timeout`,
        },
      }),
    );
  }
  return [...findings, ...pgbouncerFindings(evidence, check)];
}

function pgbouncerFindings(evidence: DbConnectionsEvidence, check: string): Finding[] {
  const bouncer = evidence.pgbouncer;
  if (!bouncer) return [];
  if (!bouncer.pools) {
    return [makeFinding(F.pgbouncerUnavailable, { check, params: { url: bouncer.url, error: bouncer.error ?? 'unknown error' }, resource: 'pgbouncer' })];
  }
  return bouncer.pools
    .filter((pool) => pool.clientsWaiting > 0)
    .map((pool) =>
      makeFinding(F.pgbouncerWaiting, {
        check,
        params: { waiting: pool.clientsWaiting, pool: `${pool.database}/${pool.user}`, maxWait: formatDuration(pool.maxWaitSeconds * 1000) },
        resource: `pgbouncer/${pool.database}`,
        evidence: { ...pool },
      }),
    );
}

/** The runbook's remediation list, in its order, reduced to what applies to this evidence. */
function adviceFor(evidence: DbConnectionsEvidence): string[] {
  return [
    'Kill idle connections: aegis-ir fix db-connections --dry-run, then without --dry-run',
    'Size the app connection pool so replicas × pool size stays below the usable limit: aegis-ir fix db-pool-size --to <N> --dry-run',
    evidence.pgbouncer ? null : 'Add PgBouncer in transaction mode in front of the database if not already present',
    'Scale up the DB instance (a larger max_connections) if the limit is reached under legitimate load',
  ].filter((line): line is string => line !== null);
}

/** The fields of a session shown in findings and plans. */
export function sessionSummary(s: SessionRow): Record<string, unknown> {
  return {
    pid: s.pid,
    user: s.user,
    application: s.application,
    client: s.client,
    database: s.database,
    state: s.state,
    inState: s.inStateSeconds === null ? null : formatDuration(s.inStateSeconds * 1000),
  };
}

function describeSession(s: SessionRow | undefined, pid?: number): string {
  if (!s) return `pid ${pid ?? '?'}`;
  const state = s.inStateSeconds === null ? '' : ` for ${formatDuration(s.inStateSeconds * 1000)}`;
  return `pid ${s.pid} ${s.user ?? '?'}/${s.application || '-'} from ${s.client ?? '?'} ${s.state ?? ''}${state}`;
}

function longestInState(sessions: SessionRow[]): SessionRow | undefined {
  return [...sessions].sort((a, b) => (b.inStateSeconds ?? 0) - (a.inStateSeconds ?? 0))[0];
}

function countBy(sessions: SessionRow[], key: (s: SessionRow) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of sessions) counts[key(s)] = (counts[key(s)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]));
}
