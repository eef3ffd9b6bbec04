import { defineFinding } from '../../core/findings.js';

const anchor = 'issue-database-connection-failures';

/** Finding codes of the PostgreSQL connection checks (AEG-20xx). */
export const DATABASE_FINDINGS = {
  connectionUsage: defineFinding<{ inUse: number; usable: number; percent: number; states: string }>({
    code: 'AEG-2000',
    title: 'Connection usage',
    severity: null,
    anchor,
    summary: (p) => `${p.inUse} of ${p.usable} usable connections in use (${p.percent}%): ${p.states}`,
  }),
  connectionsNearLimit: defineFinding<{ inUse: number; usable: number; percent: number; states: string }>({
    code: 'AEG-2001',
    title: 'Connections near the limit',
    severity: 'SEV3',
    anchor,
    summary: (p) => `${p.inUse} of ${p.usable} usable connections in use (${p.percent}%): ${p.states}`,
  }),
  connectionsRefused: defineFinding<{ db: string; reason: string }>({
    code: 'AEG-2002',
    title: 'Database refusing connections',
    severity: 'SEV1',
    anchor,
    summary: (p) => `the database ${p.db} refuses new connections: ${p.reason}`,
  }),
  connectionLimitReached: defineFinding<{ db: string; of: string; name: string }>({
    code: 'AEG-2009',
    title: 'Role or database at its connection limit',
    severity: 'SEV3',
    anchor,
    summary: (p) => `the ${p.of} "${p.name}" is at its CONNECTION LIMIT on ${p.db} (SQLSTATE 53300); others still connect`,
  }),
  idleSessions: defineFinding<{ count: number; olderThan: string; oldest: string }>({
    code: 'AEG-2003',
    title: 'Long-idle sessions',
    severity: null,
    anchor,
    summary: (p) => `${p.count} session(s) idle for more than ${p.olderThan} hold connection slots (longest: ${p.oldest})`,
  }),
  idleInTransaction: defineFinding<{ count: number; olderThan: string; oldest: string }>({
    code: 'AEG-2004',
    title: 'Idle in transaction',
    severity: 'SEV4',
    anchor,
    summary: (p) =>
      `${p.count} session(s) idle in transaction for more than ${p.olderThan} hold locks and block vacuum (longest: ${p.oldest})`,
  }),
  lockWaits: defineFinding<{ waiting: number; blockers: string }>({
    code: 'AEG-2005',
    title: 'Sessions waiting on locks',
    severity: 'SEV4',
    anchor,
    summary: (p) => `${p.waiting} session(s) wait on locks held by ${p.blockers}`,
  }),
  noIdleTimeouts: defineFinding<{ settings: string }>({
    code: 'AEG-2006',
    title: 'No idle timeouts',
    severity: null,
    anchor,
    summary: (p) => `${p.settings} off: abandoned sessions keep their slots until someone ends them`,
  }),
  pgbouncerWaiting: defineFinding<{ waiting: number; pool: string; maxWait: string }>({
    code: 'AEG-2007',
    title: 'PgBouncer clients waiting',
    severity: 'SEV3',
    anchor,
    summary: (p) => `${p.waiting} client(s) wait for a server connection in PgBouncer pool ${p.pool} (longest ${p.maxWait})`,
  }),
  pgbouncerUnavailable: defineFinding<{ url: string; error: string }>({
    code: 'AEG-2008',
    title: 'PgBouncer admin console unavailable',
    severity: null,
    anchor,
    summary: (p) => `SHOW POOLS on ${p.url} failed: ${p.error}`,
  }),
};
