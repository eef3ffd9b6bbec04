import type { Context } from '../core/context.js';
import type { Finding } from '../core/findings.js';
import { SQLSTATE } from '../db/errors.js';
import type { Report } from './verdict.js';

/** A next command this run cannot suggest as is, and what would make it possible. */
export interface UnavailableNext {
  command: string;
  needs: string;
}

/** Next commands that need a target the operator may not have configured (for the finding that suggests them). */
const NEEDS: ReadonlyArray<{ command: RegExp; configured: (ctx: Context, finding: Finding) => boolean; needs: string }> = [
  {
    command: /^aegis-ir (diagnose|fix) db-connections\b/,
    configured: (ctx) => ctx.db() !== null,
    needs: 'a database: pass --database-url URL, set DATABASE_URL (or the PG* variables) or database.url',
  },
  {
    // The configured role itself was refused a slot (SQLSTATE 53300): run as it, the command is refused again.
    command: /^aegis-ir (diagnose|fix) db-connections\b/,
    configured: (_ctx, finding) => finding.evidence.sqlstate !== SQLSTATE.tooManyConnections,
    needs:
      'a role that may use the reserved slots (a superuser, or one granted pg_use_reserved_connections): pass its URL ' +
      'with --database-url, or set DATABASE_URL or database.url to it',
  },
];

/**
 * Makes every next command of a report runnable as printed where the operator is: never the command that is
 * running, and none whose target is not configured (those move to `unavailableNext`, saying what to configure).
 * `nextCommands` is what a person pastes: each with the flags that chose this run's targets, and kubectl pointed
 * at the same namespace. The findings' own `next` stay as the catalogue gives them, for scripts.
 */
export function runnableNext(report: Report, ctx: Context): Report {
  const self = `aegis-ir ${report.command}`;
  const unavailable = new Map<string, UnavailableNext>();
  const findings = report.findings.map((finding) => {
    const next = finding.next.filter((command) => {
      // What a command needs is said even of the running one: run again with it, it would work.
      const need = NEEDS.find((n) => n.command.test(command) && !n.configured(ctx, finding));
      if (need) {
        unavailable.set(command, { command, needs: need.needs });
        return false;
      }
      return !sameRun(command, self, ctx.rerunFlags ?? []);
    });
    return { ...finding, next };
  });
  const nextCommands = [...new Set(findings.flatMap((f) => f.next))].map((command) => withFlags(command, flagsFor(command, ctx)));
  return { ...report, findings, nextCommands, ...(unavailable.size ? { unavailableNext: [...unavailable.values()] } : {}) };
}

/**
 * Whether `command` is the running one again: `self` with none but the flags this run was given. The same command
 * pointed elsewhere (`aegis-ir triage --deployment web` when `--deployment api` found nothing) is a step forward.
 */
function sameRun(command: string, self: string, rerun: readonly string[]): boolean {
  if (command !== self && !command.startsWith(`${self} `)) return false;
  const given = new Set(rerun.flatMap((word, i) => (i % 2 === 0 ? [`${word} ${rerun[i + 1] ?? ''}`] : [])));
  const extra = command.slice(self.length).replace(/\s+#.*$/, '').split(/\s+/).filter(Boolean);
  return extra.every((word, i) => i % 2 === 1 || given.has(`${word} ${extra[i + 1] ?? ''}`));
}

/** The next commands to print for a person: runnable as printed when the report knows its context. */
export function nextCommandsOf(report: Report): string[] {
  return report.nextCommands ?? [...new Set(report.findings.flatMap((f) => f.next))];
}

/** The run's flags, for an aegis-ir command; the namespace (and context, kubeconfig) kubectl needs, for kubectl. */
function flagsFor(command: string, ctx: Context): string[] {
  const rerun = ctx.rerunFlags ?? [];
  if (command.startsWith('aegis-ir ')) return [...rerun];
  if (!command.startsWith('kubectl ')) return [];
  const pairs: string[] = ['-n', ctx.config.namespace];
  for (let i = 0; i + 1 < rerun.length; i += 2) {
    if (rerun[i] === '--context' || rerun[i] === '--kubeconfig') pairs.push(rerun[i] as string, rerun[i + 1] as string);
  }
  return pairs;
}

/**
 * Adds `flags` (pairs of flag and value) to `command` before any trailing `# comment`, leaving out a flag the
 * command gives already.
 */
export function withFlags(command: string, flags: readonly string[]): string {
  const hash = command.search(/\s+#/);
  const body = hash < 0 ? command : command.slice(0, hash);
  const comment = hash < 0 ? '' : command.slice(hash);
  const words = body.split(/\s+/);
  const given = (flag: string) =>
    words.some((w) => w === flag || w.startsWith(`${flag}=`)) ||
    (flag === '-n' && words.some((w) => w === '--namespace' || w === '-A' || w === '--all-namespaces'));
  const extra: string[] = [];
  for (let i = 0; i + 1 < flags.length; i += 2) {
    if (!given(flags[i] as string)) extra.push(flags[i] as string, flags[i + 1] as string);
  }
  return extra.length ? `${body} ${extra.join(' ')}${comment}` : command;
}
