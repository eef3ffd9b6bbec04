import { Option } from 'commander';
import { collectDbConnections, connectionUsage, evaluateDbConnections } from '../checks/database/db-connections.js';
import { cleanupSignal } from '../core/cancellation.js';
import type { Context } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import { CancelledError, UsageError } from '../core/errors.js';
import { SESSION_CLIENT_SQL } from '../db/activity.js';
import type { DbSession } from '../db/port.js';
import { defineRemediation, type Plan, type PlanStep, type RemediationSession, type StepOutcome } from './remediation.js';

/** Advisory-lock key space of aegis-ir (`AEGI`), and the key of this remediation within it. */
const LOCK_NAMESPACE = 0x41454749;
const LOCK_KEY = 1;
/** Sessions per termination statement: keeps each statement, and its audit record, a readable size. */
const BATCH_SIZE = 100;
/** How often to look, once every batch is signalled, whether the terminated sessions are gone (for up to --timeout). */
const EXIT_POLL_MS = 5;

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

/** The connected role: whether it may terminate superusers' sessions (superuser), others' (signal), and see their state (sees). */
interface Role {
  user: string;
  superuser: boolean;
  signal: boolean;
  sees: boolean;
}

/** A batch of sessions terminated by one statement, or the single wait for all of them to exit. */
type TerminateStep = (PlanStep & { kind: 'terminate'; sessions: Target[] }) | (PlanStep & { kind: 'wait' });

/**
 * `fix db-connections`: the runbook's "Kill idle connections", done safely. Plans client backends of
 * the target database only — never other databases, replication or background workers, the tool's own
 * session or another aegis-ir holding the lock — in state `idle` (and `idle in transaction` only with
 * `--include-idle-in-transaction`) for longer than `--idle-older-than` measured from `state_change`.
 * Applies under `pg_try_advisory_lock`: one statement per batch of up to 100 sessions signals each
 * session only while its pid, `backend_start` and `state_change` still match the plan (so a pid reused,
 * or a session that ran a query meanwhile, is left alone) — each batch audited with every pid before it
 * runs — then one bounded wait for all the signalled sessions to be gone names any survivor, and the
 * connections are counted again. A batch in which some sessions changed is `skipped` for those (its
 * detail says how many were terminated), so the run reports that the plan was not applied in full.
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
    const db = await port.connect(ctx.signal);
    return new DbConnectionsSession(ctx, db, `postgres ${port.target.display}`, args);
  },
});

class DbConnectionsSession implements RemediationSession<TerminateStep> {
  constructor(
    private readonly ctx: Context,
    private readonly db: DbSession,
    readonly target: string,
    private readonly args: Args,
  ) {}

  /** Sessions signalled by the batches applied so far: what the wait step waits for. */
  private readonly signalled: Array<Pick<Target, 'pid' | 'backendStart'>> = [];
  /** The connected role's rights, as read with the last plan: what the preflight checks. */
  private role: Role | null = null;

  async plan(shown?: Plan<TerminateStep>): Promise<Plan<TerminateStep>> {
    // Re-validation derives the plan as of the moment it was first shown, so sessions that merely aged
    // past the threshold since then do not count as a change; only sessions that changed do.
    const server = await this.serverState();
    this.role = server.role;
    const asOf = (shown?.identity as { asOf: string } | undefined)?.asOf ?? server.now;
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
      this.ctx.signal,
    );
    const olderThan = formatDuration(this.args.thresholdMs);
    const what = this.args.states.length > 1 ? 'idle or idle-in-transaction' : 'idle';
    return {
      summary: targets.length
        ? `terminate ${targets.length} ${what} session(s) idle for more than ${olderThan}`
        : `no ${what} session idle for more than ${olderThan}: nothing to terminate`,
      steps: terminateSteps(targets, this.ctx.config.timeout),
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
        // Without pg_read_all_stats a role sees the state of its own sessions only, so the plan can miss others'.
        ...(server.role && !server.role.sees
          ? [`role "${server.role.user}" sees the state of its own sessions only (no pg_read_all_stats); other roles' idle sessions are not in this plan`]
          : []),
      ],
    };
  }

  async preflight(plan: Plan<TerminateStep>): Promise<string[]> {
    const me = this.role ?? (await this.serverState()).role;
    if (!me || me.superuser) return [];
    const missing: string[] = [];
    const sessions = plan.steps.flatMap((s) => (s.kind === 'terminate' ? s.sessions : []));
    const superusers = sessions.filter((s) => s.superuser).map((s) => s.pid);
    if (superusers.length) missing.push(`role "${me.user}" is not a superuser and cannot terminate superuser sessions (pids ${superusers.join(', ')})`);
    const others = sessions.filter((s) => !s.superuser && s.user !== me.user).map((s) => s.pid);
    if (others.length && !me.signal) {
      missing.push(`role "${me.user}" may not terminate other roles' sessions (pids ${others.join(', ')}): GRANT pg_signal_backend TO "${me.user}"`);
    }
    return missing;
  }

  async lock() {
    const [row] = await this.db.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_NAMESPACE, LOCK_KEY], this.ctx.signal);
    if (row?.locked) {
      return {
        acquired: true as const,
        release: async () => {
          await this.db.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, LOCK_KEY], cleanupSignal());
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
      this.ctx.signal,
    );
    return {
      acquired: false as const,
      holder: holder
        ? `pid ${holder.pid} (${holder.application || 'unknown application'}, role ${holder.user} from ${holder.client ?? '?'}, connected since ${holder.since})`
        : 'a session that has just released it; try again',
    };
  }

  applyStep(step: TerminateStep): Promise<StepOutcome> {
    return step.kind === 'terminate' ? this.terminate(step.sessions) : this.waitForExit();
  }

  /** One statement for the batch: each session is signalled only if it is still the one planned. */
  private async terminate(sessions: Target[]): Promise<StepOutcome> {
    let rows: Array<{ pid: number; signalled: boolean }>;
    try {
      // The statement the plan shows, values written in it: one simple query, nothing to bind.
      rows = await this.db.query(terminateStatement(sessions), [], this.ctx.signal);
    } catch (error) {
      // Signals already sent by this statement cannot be taken back: say so rather than "nothing happened".
      return { status: 'failed', detail: `${(error as Error).message} (sessions of this batch may have been signalled before it failed)` };
    }
    const matched = new Set(rows.map((r) => r.pid));
    const signalled = new Set(rows.filter((r) => r.signalled).map((r) => r.pid));
    const refused = rows.filter((r) => !r.signalled).map((r) => r.pid);
    const changed = sessions.filter((s) => !matched.has(s.pid)).map((s) => s.pid);
    this.signalled.push(...sessions.filter((s) => signalled.has(s.pid)));
    const parts = [`${signalled.size} of ${sessions.length} signalled`];
    if (changed.length) parts.push(`changed since the plan (ran a query, ended or pid reused), left alone: pids ${changed.join(', ')}`);
    if (refused.length) parts.push(`the server could not signal pids ${refused.join(', ')}`);
    const detail = parts.join('; ');
    if (refused.length) return { status: 'failed', detail };
    return { status: changed.length ? 'skipped' : 'done', detail };
  }

  /** Waits once, bounded, for every signalled session to be gone; a survivor fails the step by pid. */
  private async waitForExit(): Promise<StepOutcome> {
    const sessions = this.signalled;
    if (!sessions.length) return { status: 'skipped', detail: 'no session was signalled' };
    const started = Date.now();
    for (;;) {
      const ids = [sessions.map((s) => s.pid), sessions.map((s) => s.backendStart)];
      const rows = await this.db.query<{ pid: number }>(WAIT_STATEMENT, ids, this.ctx.signal).catch((error: unknown) => {
        if (error instanceof CancelledError) return null;
        throw error;
      });
      if (!rows) return { status: 'failed', detail: `stopped waiting (cancelled); ${sessions.length} session(s) were signalled` };
      if (!rows.length) return { status: 'done', detail: `all ${sessions.length} terminated sessions are gone after ${formatDuration(Date.now() - started)}` };
      const still = `${rows.length} of ${sessions.length} still there: pids ${rows.map((r) => r.pid).join(', ')}`;
      if (this.ctx.signal.aborted) return { status: 'failed', detail: `stopped waiting (cancelled); ${still}` };
      if (Date.now() - started >= this.ctx.config.timeout) return { status: 'failed', detail: `signalled, but not gone after ${formatDuration(this.ctx.config.timeout)} (--timeout): ${still}` };
      await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
    }
  }

  async verify() {
    // On this run's session while it is up, so verifying takes no connection of its own. After Ctrl-C
    // the check stops before reading anything, on a connection of its own: this one still releases the lock.
    const evidence = await collectDbConnections(this.ctx, this.db.usable && !this.ctx.signal.aborted ? this.db : undefined);
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

  /** The server's now() and the connected role's rights, in one round trip. */
  private async serverState(): Promise<{ now: string; role: Role | null }> {
    const [row] = await this.db.query<{ now: string } & { [K in keyof Role]: Role[K] | null }>(
      `SELECT now()::text AS now, current_user AS "user", r.rolsuper AS superuser,
              pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') AS signal,
              (r.rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')) AS sees
         FROM (SELECT) AS server LEFT JOIN pg_roles r ON r.rolname = current_user`,
      [],
      this.ctx.signal,
    );
    if (!row) return { now: '', role: null };
    const { now, user, superuser, signal, sees } = row;
    return { now, role: user === null || superuser === null || signal === null || sees === null ? null : { user, superuser, signal, sees } };
  }
}

/**
 * What a terminate step runs for a batch of planned sessions, exactly as the plan shows it: the values
 * are the ones the plan read from the server, written as literals. The identity check and the signal are
 * one statement, so a session is signalled only while it is still the one in the plan: same pid and
 * backend_start (not a reused pid), same state_change and state (no query since), same database. No
 * per-session wait: the wait step waits for the whole plan at once.
 */
function terminateStatement(sessions: Target[]): string {
  const rows = sessions.map(
    (t) => `    (${sqlLiteral(t.pid)}::int, ${sqlLiteral(t.backendStart)}::timestamptz, ${sqlLiteral(t.stateChange)}::timestamptz, ${sqlLiteral(t.state)}::text)`,
  );
  return (
    'SELECT a.pid, pg_terminate_backend(a.pid) AS signalled\n' +
    '  FROM pg_stat_activity a JOIN (VALUES\n' +
    `${rows.join(',\n')}\n` +
    '  ) AS planned(pid, backend_start, state_change, state)\n' +
    '    ON a.pid = planned.pid AND a.backend_start = planned.backend_start\n' +
    '   AND a.state_change = planned.state_change AND a.state = planned.state\n' +
    ' WHERE a.datname = current_database()'
  );
}

/** What the wait step polls: the signalled sessions (by pid and backend_start) that still exist. */
const WAIT_STATEMENT =
  'SELECT a.pid FROM pg_stat_activity a JOIN unnest($1::int[], $2::timestamptz[]) AS t(pid, backend_start)\n' +
  '    ON a.pid = t.pid AND a.backend_start = t.backend_start';

/** The plan's steps: a terminate step per batch, its pids in the description, then the one wait. */
function terminateSteps(targets: Target[], waitMs: number): TerminateStep[] {
  if (!targets.length) return [];
  const steps: TerminateStep[] = [];
  for (let i = 0; i < targets.length; i += BATCH_SIZE) {
    const sessions = targets.slice(i, i + BATCH_SIZE);
    steps.push({
      kind: 'terminate',
      sessions,
      description: `terminate ${sessions.length} session(s): pids ${sessions.map((s) => s.pid).join(', ')}`,
      action: terminateStatement(sessions),
    });
  }
  steps.push({
    kind: 'wait',
    description: `wait up to ${formatDuration(waitMs)} (--timeout) for the terminated sessions to be gone`,
    action: `-- every ${EXIT_POLL_MS}ms until it returns nothing, at most ${formatDuration(waitMs)}; $1, $2: the pids and backend_start of the sessions signalled above\n${WAIT_STATEMENT}`,
  });
  return steps;
}

/**
 * A number as written, a string as PostgreSQL's quote_literal writes it: quotes doubled, and a value with
 * a backslash as an escape string, so it reads the same whatever standard_conforming_strings is.
 */
function sqlLiteral(value: number | string): string {
  if (typeof value === 'number') return String(value);
  const quoted = value.replaceAll("'", "''");
  return value.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}
