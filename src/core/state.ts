import { homedir } from 'node:os';
import { join } from 'node:path';

/** aegis-ir's state directory: `$XDG_STATE_HOME/aegis-ir`, else `~/.local/state/aegis-ir` (the audit log, incidents). */
export function stateDir(env: Record<string, string | undefined>): string {
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'aegis-ir');
}
