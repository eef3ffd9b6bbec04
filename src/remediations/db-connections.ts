import { Option } from 'commander';
import { collectDbConnections, connectionUsage, evaluateDbConnections } from '../checks/database/db-connections.js';
import type { Context } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { SESSION_CLIENT_SQL } from '../db/activity.js';
import type { DbSession } from '../db/port.js';
import { defineRemediation, type Plan, type PlanStep, type RemediationSession, type StepOutcome } from './remediation.js';

/** Advisory-lock key space of aegis-ir (`AEGI`), and the key of this remediation within it. */
const LOCK_NAMESPACE = 0x41454749;
const LOCK_KEY = 1;
/** How long `pg_terminate_backend` waits for a session to exit (PostgreSQL 14+). */
const TERMINATE_WAIT_MS = 5_000;

interface Args {
  thresholdMs: number;
  states: string[];
}

/** A session chosen for termination, with what must still match when it is terminated. */
interface Target {
  pid: number;
  user: string | null;
  application: string;
  client: string | null;
  state: string;
  backendStart: string;
  stateChange: string;
  idleSeconds: number;
  superuser: boolean | null;
}

interface TerminateStep extends PlanStep {
  session: Target;
}

/**
 * `fix db-connections`: the runbook's "Kill idle connections", done safely. Plans client backends of
 * the target database only — never other databases, replication or background workers, the tool's own
 * session or another aegis-ir holding the lock — in state `idle` (and `idle in transaction` only with
 * `--include-idle-in-transaction`) for longer than `--idle-older-than` measured from `state_change`.
 * Applies under `pg_try_advisory_lock`, terminating each session only while its pid, `backend_start`
 * and `state_change` still match the plan (so a pid reused, or a session that ran a query meanwhile, is
 * left alone), then counts the connections again.
 */
export const dbConnectionsRemediation = defineRemediation<Args>({
  id: 'db-connections',
  summary: 'Terminate client sessions idle longer than a threshold in the target database',
  description:
    'Terminates sessions of the configured database that have been idle (since state_change) for longer than\n' +
    '--idle-older-than (default 10m). Never touches other databases, replication or background workers, its own\n' +
    'session, or sessions that changed since the plan was shown. Sessions idle in a transaction are left alone\n' +
    'unless --include-idle-in-transaction is given (terminating them rolls their transaction back).',
  risk: 'medium',
  anchor: 'issue-database-connection-failures',
  cap: { unit: 'sessions', default: 50 },
  options: () => [
    new Option('--include-idle-in-transaction', 'also terminate sessions idle in a transaction (rolls it back)'),
  ],
  examples: [
    'aegis-ir fix db-connections --dry-run',
    'aegis-ir fix db-connections --idle-older-than 30m --yes',
    'aegis-ir fix db-connections --include-idle-in-transaction --max 200 --dry-run -o json',
  ],
  parseArgs: (options, ctx) => ({
    thresholdMs: ctx.config.database.idleOlderThan,
    states: options.includeIdleInTransaction ? ['idle', 'idle in transaction', 'idle in transaction (aborted)'] : ['idle'],
  }),
  async open(ctx, args) {
    const port = ctx.db();
    if (!port) {
      throw new UsageError('no database configured', 'pass --database-url, or set DATABASE_URL or the PG* variables');
    }
    const db = await port.connect();
    try {
      const [version] = await db.query<{ num: number }>("SELECT current_setting('server_version_num')::int AS num");
      return new DbConnectionsSession(ctx, db, `postgres ${port.target.display}`, args, (version?.num ?? 0) >= 140_000);
    } catch (error) {
      // The engine closes only sessions it was given; a slot is precious on a saturated database.
      await db.close();
      throw error;
    }
  },
});

class DbConnectionsSession implements RemediationSession<TerminateStep> {
  constructor(
    private readonly ctx: Context,
    private readonly db: DbSession,
    readonly target: string,
    private readonly args: Args,
    private readonly terminateWaits: boolean,
  ) {}

  async plan(shown?: Plan<TerminateStep>): Promise<Plan<TerminateStep>> {
    // Re-validation derives the plan as of the moment it was first shown, so sessions that merely aged
    // past the threshold since then do not count as a change; only sessions that changed do.
    const asOf = (shown?.identity as { asOf: string } | undefined)?.asOf ?? (await this.serverNow());
    const targets = await this.db.query<Target>(
      `SELECT a.pid, a.usename AS "user", COALESCE(a.application_name, '') AS application,
              ${SESSION_CLIENT_SQL} AS client, a.state, a.backend_start::text AS "backendStart", a.state_change::text AS "stateChange",
              EXTRACT(EPOCH FROM ($1::timestamptz - a.state_change))::float8 AS "idleSeconds",
              r.rolsuper AS superuser
         FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid
        WHERE a.backend_type = 'client backend'
          AND a.datname = current_database()
          AND a.pid <> pg_backend_pid()
          AND a.state = ANY($2)
          AND a.state_change < $1::timestamptz - make_interval(secs => $3)
          AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory'
                            AND l.classid = $4::oid AND l.objsubid = 2)
        ORDER BY a.state_change, a.pid`,
      [asOf, this.args.states, this.args.thresholdMs / 1000, LOCK_NAMESPACE],
    );
    const olderThan = formatDuration(this.args.thresholdMs);
    const what = this.args.states.length > 1 ? 'idle or idle-in-transaction' : 'idle';
    return {
      summary: targets.length
        ? `terminate ${targets.length} ${what} session(s) idle for more than ${olderThan}`
        : `no ${what} session idle for more than ${olderThan}: nothing to terminate`,
      steps: targets.map((t) => ({
        session: t,
        description: `terminate pid ${t.pid} (${t.user ?? '?'}/${t.application || '-'} from ${t.client ?? '?'}, ${t.state} for ${formatDuration(t.idleSeconds * 1000)})`,
        action: terminateStatement(this.terminateWaits).replace(/\$(\d)/g, (_, n: string) => sqlLiteral(this.terminateParams(t)[Number(n) - 1])),
      })),
      table: {
        columns: ['pid', 'user', 'application', 'client', 'state', 'idle for'],
        rows: targets.map((t) => ({
          pid: t.pid,
          user: t.user,
          application: t.application,
          client: t.client,
          state: t.state,
          'idle for': formatDuration(t.idleSeconds * 1000),
        })),
      },
      identity: { asOf, sessions: targets.map((t) => [t.pid, t.backendStart, t.stateChange]) },
      size: targets.length,
      notes: [
        ...(this.args.states.length > 1 ? ['terminating a session idle in a transaction rolls its transaction back'] : []),
        ...(await this.visibilityNotes()),
      ],
    };
  }

  async preflight(plan: Plan<TerminateStep>): Promise<string[]> {
    const [me] = await this.db.query<{ user: string; superuser: boolean; signal: boolean }>(
      `SELECT current_user AS "user", rolsuper AS superuser, pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') AS signal
         FROM pg_roles WHERE rolname = current_user`,
    );
    if (!me || me.superuser) return [];
    const missing: string[] = [];
    const superusers = plan.steps.filter((s) => s.session.superuser).map((s) => s.session.pid);
    if (superusers.length) missing.push(`role "${me.user}" is not a superuser and cannot terminate superuser sessions (pids ${superusers.join(', ')})`);
    const others = plan.steps.filter((s) => !s.session.superuser && s.session.user !== me.user).map((s) => s.session.pid);
    if (others.length && !me.signal) {
      missing.push(`role "${me.user}" may not terminate other roles' sessions (pids ${others.join(', ')}): GRANT pg_signal_backend TO "${me.user}"`);
    }
    return missing;
  }

  async lock() {
    const [row] = await this.db.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_NAMESPACE, LOCK_KEY]);
    if (row?.locked) {
      return {
        acquired: true as const,
        release: async () => {
          await this.db.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, LOCK_KEY]);
        },
      };
    }
    const [holder] = await this.db.query<{ pid: number; application: string; user: string; client: string | null; since: string }>(
      `SELECT l.pid, COALESCE(a.application_name, '') AS application, a.usename AS "user",
              ${SESSION_CLIENT_SQL} AS client, a.backend_start::text AS since
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid AND l.objid = $2::oid AND l.objsubid = 2
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [LOCK_NAMESPACE, LOCK_KEY],
    );
    return {
      acquired: false as const,
      holder: holder
        ? `pid ${holder.pid} (${holder.application || 'unknown application'}, role ${holder.user} from ${holder.client ?? '?'}, connected since ${holder.since})`
        : 'a session that has just released it; try again',
    };
  }

  async applyStep(step: TerminateStep): Promise<StepOutcome> {
    try {
      const [row] = await this.db.query<{ terminated: boolean }>(terminateStatement(this.terminateWaits), this.terminateParams(step.session));
      if (!row) return { status: 'skipped', detail: 'changed since the plan (ran a query, ended or pid reused); left alone' };
      return row.terminated
        ? { status: 'done', detail: 'terminated' }
        : {
            status: 'failed',
            // Before PostgreSQL 14 there is no wait: false means the signal itself could not be sent.
            detail: this.terminateWaits ? `signalled, but it had not exited after ${formatDuration(TERMINATE_WAIT_MS)}` : 'the server could not signal it',
          };
    } catch (error) {
      return { status: 'failed', detail: (error as Error).message };
    }
  }

  async verify() {
    const evidence = await collectDbConnections(this.ctx);
    const findings = evaluateDbConnections(evidence, { config: this.ctx.config, now: this.ctx.clock.now() });
    if (!evidence.settings) return { summary: 'the database still refuses connections (SQLSTATE 53300)', findings, details: {} };
    const usage = connectionUsage(evidence.settings, evidence.sessions);
    return {
      summary: `${usage.inUse} of ${usage.usable} usable connections in use now (${Math.round(usage.saturation * 100)}%)`,
      findings: findings.filter((f) => f.severity !== null),
      details: { inUse: usage.inUse, usable: usage.usable, byState: usage.byState },
    };
  }

  close(): Promise<void> {
    return this.db.close();
  }

  private terminateParams(t: Target): unknown[] {
    return [t.pid, t.backendStart, t.stateChange, t.state, ...(this.terminateWaits ? [TERMINATE_WAIT_MS] : [])];
  }

  private async serverNow(): Promise<string> {
    const [row] = await this.db.query<{ now: string }>('SELECT now()::text AS now');
    return row?.now ?? '';
  }

  /** Without pg_read_all_stats a role sees the state of its own sessions only, so the plan can miss others'. */
  private async visibilityNotes(): Promise<string[]> {
    const [row] = await this.db.query<{ sees: boolean; user: string }>(
      `SELECT (rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')) AS sees, current_user AS "user"
         FROM pg_roles WHERE rolname = current_user`,
    );
    return row && !row.sees
      ? [`role "${row.user}" sees the state of its own sessions only (no pg_read_all_stats); other roles' idle sessions are not in this plan`]
      : [];
  }
}

/**
 * What `applyStep` runs for one planned session, and (with its parameters inlined) what the plan
 * shows. One statement checks and terminates, so the session is terminated only while it is still the
 * one in the plan: same pid and backend_start (not a reused pid), same state_change (no query since).
 */
function terminateStatement(waits: boolean): string {
  return (
    `SELECT pg_terminate_backend(pid${waits ? ', $5' : ''}) AS terminated FROM pg_stat_activity WHERE pid = $1\n` +
    '  AND backend_start = $2::timestamptz AND state_change = $3::timestamptz AND state = $4 AND datname = current_database()'
  );
}

function sqlLiteral(value: unknown): string {
  return typeof value === 'number' ? String(value) : `'${String(value).replaceAll("'", "''")}'`;
}
