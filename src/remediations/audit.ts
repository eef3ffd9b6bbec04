import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { stateDir } from '../core/state.js';

/** One line of the audit log. `event` is one of verdict (triage or diagnose while an incident is open), plan, plan-saved, preflight-failed, lock-held, cap-exceeded, confirmed, declined, cancelled, plan-changed, lock-lost, step, outcome, verify, lock-release-failed, error. */
export interface AuditRecord {
  time: string;
  /** Ties the records of one run together. */
  run: string;
  operator: string;
  /** The remediation's id; absent on a triage or diagnose verdict. */
  remediation?: string;
  target?: string;
  /** The incident open while this ran (several ids when several were open), so it joins that incident's timeline. */
  incident?: string | string[];
  /** A Kubernetes target's API server URL and kubeconfig context. */
  cluster?: string;
  context?: string | null;
  event: string;
  [key: string]: unknown;
}

/** What every record of one run carries. */
export type AuditBase = Pick<AuditRecord, 'run' | 'operator' | 'remediation' | 'target' | 'cluster' | 'context' | 'incident'>;

/** Where the audit log lives: `audit.path` / `AEGIS_IR_AUDIT_LOG`, else `$XDG_STATE_HOME/aegis-ir/audit.jsonl`. */
export function auditLogPath(ctx: Context): string {
  if (ctx.config.audit.path) return ctx.config.audit.path;
  return join(stateDir(ctx.env), 'audit.jsonl');
}

/**
 * An append-only JSON-lines audit log. Each record is written and fsynced before `append` returns,
 * so a step is on disk before it runs: after a crash the log still says what may have happened.
 * Records pass through the run's redaction as a last line of defence; callers never put secrets in them.
 */
export class AuditLog {
  private constructor(
    readonly path: string,
    private readonly base: AuditBase,
    private readonly clock: () => Date,
    private readonly redact: (text: string) => string,
  ) {}

  static open(ctx: Context, base: AuditBase): AuditLog {
    const path = auditLogPath(ctx);
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      closeSync(openSync(path, 'a', 0o600));
    } catch (error) {
      throw new UsageError(
        `cannot write the audit log ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        'set audit.path in the config or AEGIS_IR_AUDIT_LOG to a writable file',
      );
    }
    return new AuditLog(path, base, () => ctx.clock.now(), (text) => ctx.redact(text));
  }

  append(event: string, data: Record<string, unknown> = {}): void {
    const record: AuditRecord = { time: this.clock().toISOString(), ...this.base, event, ...data };
    const fd = openSync(this.path, 'a', 0o600);
    try {
      // Each string is redacted before it is JSON-escaped: a secret with a quote or a backslash in it
      // would no longer match once escaped.
      const line = JSON.stringify(record, (_key, value: unknown) => (typeof value === 'string' ? this.redact(value) : value));
      writeSync(fd, `${line}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * The records of the audit log at `path`, oldest first; none when there is no log yet. A last line
 * cut short by a crash mid-write is left out; any other line that is not a record is an error naming it.
 */
export function readAuditLog(path: string): AuditRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UsageError(`cannot read the audit log ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 'set audit.path in the config or AEGIS_IR_AUDIT_LOG to the audit log');
  }
  const lines = text.split('\n');
  const records: AuditRecord[] = [];
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    try {
      records.push(JSON.parse(line) as AuditRecord);
    } catch {
      if (index === lines.length - 1) return;
      throw new UsageError(`the audit log ${path} has a line that is not a JSON record (line ${index + 1})`, `inspect it with: sed -n ${index + 1}p ${path}`);
    }
  });
  return records;
}

/** What of an incident the journal window needs: its id, when it started and when it was resolved. */
export interface IncidentWindow {
  id: string;
  startedAt: string;
  resolvedAt: string | null;
}

/** An incident's window of the journal: the records from its start to its resolution, and every record carrying its id. */
export function incidentJournal(records: readonly AuditRecord[], incident: IncidentWindow): AuditRecord[] {
  const from = Date.parse(incident.startedAt);
  const to = incident.resolvedAt === null ? Infinity : Date.parse(incident.resolvedAt);
  return records.filter((r) => {
    const time = Date.parse(r.time);
    return (time >= from && time <= to) || [r.incident ?? []].flat().includes(incident.id);
  });
}
