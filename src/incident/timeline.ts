import { randomUUID } from 'node:crypto';
import type { Report } from '../checks/verdict.js';
import type { Context } from '../core/context.js';
import { operatorName } from '../core/operator.js';
import { AuditLog } from '../remediations/audit.js';
import type { FixReport } from '../remediations/engine.js';
import { changeMessage } from './messages.js';
import { IncidentSession } from './operations.js';
import { isOpen } from './record.js';
import { outboundSenders } from './senders.js';
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

/** A triage or diagnose verdict reached while an incident is open, in the audit log. */
export async function auditVerdict(ctx: Context, report: Report): Promise<void> {
  const ids = await openIncidents(ctx);
  if (!ids.length) return;
  AuditLog.open(ctx, { run: randomUUID(), operator: operatorName(ctx.env), ...incidentField(ids) }).append('verdict', {
    command: report.command,
    severity: report.severity,
    severityReason: report.severityReason,
    unknown: report.unknown,
  });
}

/**
 * A remediation applied while incidents are open: a PagerDuty change event in each one's outbox,
 * delivered now. Not delivered is a warning, not a failed fix: it stays in the outbox and the next
 * incident command sends it.
 */
export async function noteRemediation(ctx: Context, ids: string[], report: FixReport): Promise<void> {
  if (!ids.length || !report.applied || !ctx.config.notify.pagerduty.routingKey) return;
  const session = new IncidentSession(ctx, await openStore(ctx), outboundSenders(ctx));
  const done = report.steps.filter((s) => s.status === 'done').map((s) => s.description);
  for (const id of ids) {
    await session.note(id, [
      changeMessage({ id }, `fix ${report.remediation.id} applied to ${report.target}`, { steps: done, verification: report.verification?.summary ?? null }, ctx.clock.now(), session.operator),
    ]);
  }
  const delivery = await session.flush();
  for (const u of delivery.undelivered) ctx.logger.warn(`${u.error}; it stays in the outbox of ${u.message.id.split('/')[0]} for the next incident command`);
}
