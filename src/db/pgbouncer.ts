import type { DbPort } from './port.js';

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
 * Reads `SHOW POOLS` from a PgBouncer admin console, a port opened in pooler mode (the console
 * refuses unknown startup parameters such as statement_timeout). The console speaks only the simple
 * query protocol: the query goes without parameters, which node-postgres sends as a simple query.
 */
export async function readPgBouncerPools(port: DbPort, signal: AbortSignal): Promise<PoolRow[]> {
  const session = await port.connect(signal);
  try {
    // The console types its counters as integers, which the driver hands over as numbers; older
    // versions and other poolers may send text.
    const rows = await session.query<Record<string, string | number | null>>('SHOW POOLS', [], signal);
    const num = (value: string | number | null | undefined) => Number(value ?? 0) || 0;
    return rows.map((r) => ({
      database: String(r.database ?? ''),
      user: String(r.user ?? ''),
      clientsActive: num(r.cl_active),
      clientsWaiting: num(r.cl_waiting),
      serversActive: num(r.sv_active),
      serversIdle: num(r.sv_idle),
      maxWaitSeconds: num(r.maxwait) + num(r.maxwait_us) / 1e6,
      mode: String(r.pool_mode ?? ''),
    }));
  } finally {
    await session.close();
  }
}
