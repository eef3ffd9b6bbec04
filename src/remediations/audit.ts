import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { stateDir } from '../core/state.js';
import { workloadLeafChanges, type Replaced } from './replaced.js';

/**
 * One line of the audit log, the event journal. `event` is `verdict` (every triage and diagnose run), an incident's
 * `incident-opened`, `incident-updated`, `incident-escalated`, `incident-reminded`, `incident-resolved` and each
 * `delivery` to Slack, PagerDuty or Statuspage, or a remediation's plan, plan-saved, refused, preflight-failed, lock-held,
 * cap-exceeded, confirmed, declined, cancelled, plan-changed, lock-lost, step, outcome, verify, lock-release-failed, error.
 * A `fix revert` run's records also carry `reverts`: the run it undoes.
 */
export interface AuditRecord {
  time: string;
  /** Ties the records of one run together. */
  run: string;
  operator: string;
  /** The remediation's id; absent on the events of other commands. */
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
 * An append-only JSON-lines audit log. Every record is written at once (a reader of the log sees it
 * straight away); {@link AuditLog.append} also fsyncs before it returns, which makes every record
 * written before it durable too, so a step's record and everything before it are on disk before the
 * step runs: after a crash the log still says what may have happened. {@link AuditLog.note} leaves the
 * fsync to the next `append` or to {@link AuditLog.flush}, for the records no action waits on.
 * Records pass through the run's redaction as a last line of defence; callers never put secrets in them.
 */
export class AuditLog {
  /** Whether records were written since the last fsync. */
  private unsynced = false;

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

  /** Writes the record and fsyncs the log: it, and every record before it, is on disk when this returns. */
  append(event: string, data: Record<string, unknown> = {}): void {
    this.note(event, data);
    this.flush();
  }

  /** Writes the record; it is on disk after the next {@link append} or {@link flush}. */
  note(event: string, data: Record<string, unknown> = {}): void {
    const record: AuditRecord = { time: this.clock().toISOString(), ...this.base, event, ...data };
    // Each string is redacted before it is JSON-escaped: a secret with a quote or a backslash in it
    // would no longer match once escaped.
    const line = JSON.stringify(record, (_key, value: unknown) => (typeof value === 'string' ? this.redact(value) : value));
    this.withLog((fd) => {
      writeSync(fd, `${line}\n`);
      this.unsynced = true;
    });
  }

  /** Makes every record written so far durable; nothing to do when the last one was appended. */
  flush(): void {
    if (!this.unsynced) return;
    // fsync writes out the file, not only what this descriptor wrote: the records noted before are in it.
    this.withLog((fd) => {
      fsyncSync(fd);
      this.unsynced = false;
    });
  }

  private withLog(use: (fd: number) => void): void {
    const fd = openSync(this.path, 'a', 0o600);
    try {
      use(fd);
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

/**
 * A mitigation still in effect: a run that applied a Kubernetes change (verified or not) that no later
 * `fix revert` has undone — the runbook's post-incident "remove any temporary mitigations".
 */
export interface Mitigation {
  /** The run that applied it, as `fix revert RUN-ID` takes it. */
  run: string;
  remediation: string;
  operator: string;
  /** What it changed and locked: `configmap aegis/aegis-api-config and deployment aegis/aegis-api`. */
  target: string;
  /** The API server's URL and kubeconfig context it was applied through. */
  cluster: string | null;
  context: string | null;
  /** The incidents open when it was applied. */
  incidents: string[];
  /** When its first change was applied (ISO 8601). */
  appliedAt: string;
  /** How long ago that was, at `now`. */
  ageMs: number;
  /** The plan's one line: "enable the AI fallback provider openai in configmap/aegis-api-config (before: unset)". */
  summary: string;
  /** Each change applied, for people: "patch configmap/aegis-api-config: AI fallback provider … unset → openai". */
  changes: string[];
  /** What the changes replaced, as recorded: what a revert restores. */
  replaced: Replaced[];
  /** The verification after it, or null when the run stopped before verifying. */
  verification: string | null;
  /** The command that undoes it: `aegis-ir fix revert RUN-ID`. */
  revertCommand: string;
}

/** The remediation id of `fix revert`, whose runs undo others and are not mitigations themselves. */
export const REVERT = 'revert';

/**
 * The mitigations still in effect in `records` (the audit log, oldest first), newest first: every run whose
 * applied steps recorded what they replaced (SPEC guard 9), except a revert's own and those a later
 * `fix revert` applied its change for. A rolling restart alone is not listed: restarting again gives nothing back.
 */
export function mitigationsInEffect(records: readonly AuditRecord[], now: Date): Mitigation[] {
  const reverted = new Set(records.filter((r) => r.remediation === REVERT && r.event === 'outcome' && r.status === 'done' && r.replaced).map((r) => String(r.reverts)));
  const runs = new Map<string, AuditRecord[]>();
  for (const record of records) {
    if (!record.remediation || record.remediation === REVERT || reverted.has(record.run)) continue;
    runs.set(record.run, [...(runs.get(record.run) ?? []), record]);
  }
  const mitigations: Mitigation[] = [];
  for (const [run, own] of runs) {
    const applied = own.filter((r) => r.event === 'outcome' && r.status === 'done' && isLasting(r.replaced as Replaced | undefined));
    const first = applied[0];
    if (!first) continue;
    const plan = own.find((r) => r.event === 'plan' && r.dryRun === false);
    const verify = own.find((r) => r.event === 'verify');
    mitigations.push({
      run,
      remediation: String(first.remediation),
      operator: first.operator,
      target: first.target ?? '',
      cluster: first.cluster ?? null,
      context: first.context ?? null,
      incidents: [first.incident ?? []].flat(),
      appliedAt: first.time,
      ageMs: Math.max(0, now.getTime() - Date.parse(first.time)),
      summary: typeof plan?.summary === 'string' ? plan.summary : String(first.description ?? ''),
      changes: applied.map((r) => String(r.description ?? '')),
      replaced: applied.map((r) => r.replaced as Replaced),
      verification: typeof verify?.summary === 'string' ? verify.summary : null,
      revertCommand: `aegis-ir fix revert ${run}`,
    });
  }
  return mitigations.sort((a, b) => Date.parse(b.appliedAt) - Date.parse(a.appliedAt));
}

/** Whether a recorded change left something a revert can give back (not only a restart stamp). */
function isLasting(replaced: Replaced | undefined): boolean {
  if (!replaced) return false;
  if (replaced.kind === 'configmap') return Object.values(replaced.data).some((d) => d.before !== d.after);
  return workloadLeafChanges(replaced).length > 0;
}
