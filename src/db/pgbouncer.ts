import { createDbPort } from './client.js';
import { resolveDbTarget } from './target.js';
import type { Config } from '../core/config.js';

/** One row of PgBouncer's `SHOW POOLS`, with the columns the diagnosis reads. */
export interface PoolRow {
  database: string;
  user: string;
  clientsActive: number;
  clientsWaiting: number;
  serversActive: number;
  serversIdle: number;
  /** Seconds the oldest waiting client has waited. */
  maxWaitSeconds: number;
  mode: string;
}

/**
 * Reads `SHOW POOLS` from the PgBouncer admin console named by `database.pgbouncerUrl`. The console
 * speaks only the simple query protocol and refuses unknown startup parameters, hence the pooler mode.
 */
export async function readPgBouncerPools(config: Config, url: string): Promise<PoolRow[]> {
  const target = resolveDbTarget({ ...config, database: { ...config.database, url } }, {});
  if (!target) return [];
  const session = await createDbPort(target, {
    connectTimeoutMs: config.database.connectTimeout,
    statementTimeoutMs: config.database.statementTimeout,
    pooler: true,
    applicationName: 'aegis-ir',
  }).connect();
  try {
    const rows = await session.query<Record<string, string | null>>('SHOW POOLS');
    const num = (value: string | null | undefined) => Number(value ?? 0) || 0;
    return rows.map((r) => ({
      database: r.database ?? '',
      user: r.user ?? '',
      clientsActive: num(r.cl_active),
      clientsWaiting: num(r.cl_waiting),
      serversActive: num(r.sv_active),
      serversIdle: num(r.sv_idle),
      maxWaitSeconds: num(r.maxwait) + num(r.maxwait_us) / 1e6,
      mode: r.pool_mode ?? '',
    }));
  } finally {
    await session.close();
  }
}
