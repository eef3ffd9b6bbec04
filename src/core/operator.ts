import { hostname, userInfo } from 'node:os';

/** Whether a process with this pid runs on this host (one of another user's counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Who is running the tool, as `user@host`: recorded in the audit log, in lock holders and in the
 * application_name of database sessions, so a change or a held lock can be traced to a person.
 */
export function operatorName(env: Record<string, string | undefined>): string {
  let user = env.USER || env.LOGNAME;
  try {
    user ||= userInfo().username;
  } catch {
    // No passwd entry for this uid (some containers).
  }
  return `${user || 'unknown'}@${hostname()}`;
}
