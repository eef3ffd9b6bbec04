import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Where a password may be looked up: the connection's coordinates, as libpq matches them. */
export interface PgpassQuery {
  host: string;
  port: number;
  database: string;
  user: string;
}

/**
 * The password for a connection from the libpq password file (`PGPASSFILE`, else `~/.pgpass`), as
 * psql finds it: the first `hostname:port:database:username:password` line whose fields match, `*`
 * matching anything and `\:` / `\\` escaping. Like libpq, a file others can read is ignored.
 */
export function pgpassPassword(query: PgpassQuery, env: Record<string, string | undefined>): string | undefined {
  const file = env.PGPASSFILE || (env.HOME ? join(env.HOME, '.pgpass') : undefined);
  if (!file) return undefined;
  let text: string;
  try {
    if ((statSync(file).mode & 0o077) !== 0) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const wanted = [query.host, String(query.port), query.database, query.user];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const fields = splitFields(line);
    if (fields.length < 5) continue;
    if (wanted.every((value, i) => fields[i] === '*' || fields[i] === value)) return fields.slice(4).join(':');
  }
  return undefined;
}

function splitFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i];
    if (ch === '\\' && i + 1 < line.length) current += line[++i];
    else if (ch === ':') {
      fields.push(current);
      current = '';
    } else current += ch;
  }
  fields.push(current);
  return fields;
}
