import type { Context } from '../core/context.js';
import type { FixReport } from '../remediations/engine.js';
import { changeMessage } from './messages.js';
import { IncidentSession } from './operations.js';
import { outboundSenders } from './senders.js';
import { openStore } from './store.js';

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
