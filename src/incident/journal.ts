import { randomUUID } from 'node:crypto';
import type { Report } from '../checks/verdict.js';
import type { Context } from '../core/context.js';
import type { Finding } from '../core/findings.js';
import { operatorName } from '../core/operator.js';
import { AuditLog } from '../remediations/audit.js';
import { kubeScope, type KubeScope } from '../remediations/remediation.js';
import { isOpen } from './record.js';
import { openStore } from './store.js';

/**
 * The incidents open now, for the audit records of a triage or a remediation, so they join the
 * incident's timeline. A store that cannot be read must not stop the triage or the fix: it is said
 * in --verbose and nothing is joined.
 */
export async function openIncidents(ctx: Context): Promise<string[]> {
  try {
    return (await (await openStore(ctx)).list()).filter(isOpen).map((i) => i.id);
  } catch (error) {
    ctx.logger.debug(`incident store not read: ${(error as Error).message}`);
    return [];
  }
}

/** `incident` as an audit record carries it: the one id, or every id when several are open. */
export function incidentField(ids: string[]): { incident?: string | string[] } {
  if (!ids.length) return {};
  return { incident: ids.length === 1 ? (ids[0] as string) : ids };
}

/** Where a command ran: the API server and kubeconfig context, when the kubeconfig names them. */
export async function clusterScope(ctx: Context): Promise<Partial<KubeScope>> {
  try {
    return kubeScope(await ctx.kube());
  } catch {
    // No kubeconfig here (an incident command on a laptop): the record simply names no cluster.
    return {};
  }
}

/**
 * Appends one event to the journal (the audit log): when, who, on which cluster, and the incidents it
 * belongs to (`incidents`, else every incident open now). Not a guard: a journal that cannot be written
 * is a warning, and the command it records still runs.
 */
export async function journal(ctx: Context, event: string, data: Record<string, unknown>, options: { incidents?: string[]; run?: string } = {}): Promise<void> {
  const ids = options.incidents ?? (await openIncidents(ctx));
  try {
    AuditLog.open(ctx, { run: options.run ?? randomUUID(), operator: operatorName(ctx.env), ...(await clusterScope(ctx)), ...incidentField(ids) }).append(event, data);
  } catch (error) {
    ctx.logger.warn(`the ${event} was not written to the journal: ${(error as Error).message}`);
  }
}

/** A finding as the journal keeps it: what the post-mortem needs, without the evidence's log lines. */
export interface JournalFinding {
  code: string;
  check: string;
  severity: Finding['severity'];
  summary: string;
  resource: string | null;
  since?: string;
  /** The component, container or deployment the finding is about, when its evidence names one. */
  subject?: Record<string, string>;
}

/** What a `verdict` record holds: the SEV, the findings behind it and the impact. */
export interface VerdictRecord {
  command: string;
  severity: Report['severity'];
  severityReason: string;
  unknown: string[];
  assessedNothing: boolean;
  findings: JournalFinding[];
  impact: Report['impact'] | null;
  /** The incident whose restoration this run was to confirm (`incident resolve`, `postmortem`). */
  confirms?: string;
  /** The incident this run declared (`incident open --from-triage`). */
  declares?: string;
}

const SUBJECT_KEYS = ['component', 'container', 'deployment'] as const;

/** The verdict of a triage or diagnose run as the journal records it. */
export function verdictRecord(report: Report, purpose: { confirms?: string; declares?: string } = {}): VerdictRecord {
  return {
    command: report.command,
    severity: report.severity,
    severityReason: report.severityReason,
    unknown: report.unknown,
    assessedNothing: report.assessedNothing,
    findings: report.findings.map((f) => {
      const subject = Object.fromEntries(SUBJECT_KEYS.flatMap((k) => (typeof f.evidence[k] === 'string' ? [[k, f.evidence[k] as string]] : [])));
      return {
        code: f.code,
        check: f.check,
        severity: f.severity,
        summary: f.summary,
        resource: f.resource,
        ...(f.since ? { since: f.since } : {}),
        ...(Object.keys(subject).length ? { subject } : {}),
      };
    }),
    impact: report.impact ?? null,
    ...(purpose.confirms ? { confirms: purpose.confirms } : {}),
    ...(purpose.declares ? { declares: purpose.declares } : {}),
  };
}

/**
 * A triage or diagnose verdict in the journal, under the incidents open now and the one it declared or whose
 * restoration it confirms. `at` is when the verdict was reached, when it is journalled later:
 * `incident open --from-triage` knows the incident's id only once it is open.
 */
export async function journalVerdict(ctx: Context, report: Report, options: { confirms?: string; declares?: string; at?: Date } = {}): Promise<void> {
  const open = await openIncidents(ctx);
  const also = options.declares ?? options.confirms;
  const incidents = also && !open.includes(also) ? [...open, also] : open;
  await journal(ctx, 'verdict', { ...(options.at ? { time: options.at.toISOString() } : {}), ...verdictRecord(report, options) }, { incidents });
}
