import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Report } from '../checks/verdict.js';
import type { Context } from '../core/context.js';
import { CancelledError, UsageError } from '../core/errors.js';
import { stateDir } from '../core/state.js';
import { journalVerdict } from '../incident/journal.js';
import { IncidentSession } from '../incident/operations.js';
import { postmortemOf, type Postmortem } from '../incident/postmortem.js';
import type { Incident } from '../incident/record.js';
import { openStore, type IncidentStore } from '../incident/store.js';
import { alertingRules } from '../prometheus/rules.js';
import { auditLogPath, incidentJournal, mitigationsInEffect, readAuditLog } from '../remediations/audit.js';
import { postmortemDocument, postmortemMarkdown } from '../render/postmortem.js';
import { render, requireFormat } from '../render/output.js';
import { triage } from './triage.js';

/** `postmortem`'s own flags. */
export interface PostmortemOptions {
  out?: string;
  open?: boolean;
}

/**
 * Writes the post-mortem of incident `id` (default: the most recent): a triage to confirm service is
 * restored first, then the draft on stdout, or in `--out FILE` (`--open`: also printing its path).
 */
export async function writePostmortem(ctx: Context, id: string | undefined, options: PostmortemOptions): Promise<void> {
  requireFormat(ctx, ['text', 'markdown', 'json', 'yaml']);
  const store = await openStore(ctx);
  const incident = await chooseForPostmortem(store, id);
  await confirmRestored(ctx, incident.id);
  const postmortem = draftPostmortem(ctx, store, (await store.get(incident.id)) ?? incident);
  const format = ctx.config.output;
  // The draft's text is its Markdown, so `-o markdown` is the default text.
  const text = await render({ document: postmortemDocument(postmortem), text: () => postmortemMarkdown(postmortem) }, format === 'markdown' ? 'text' : format, {
    color: false,
    verbose: false,
    failOn: ctx.config.failOn,
  });
  const out = options.out ?? (options.open ? join(stateDir(ctx.env), 'postmortems', `${incident.id}.${format === 'json' ? 'json' : format === 'yaml' ? 'yaml' : 'md'}`) : undefined);
  if (!out) {
    ctx.io.stdout.write(text);
  } else {
    writeDraft(out, ctx.redact(text));
    if (options.open) ctx.io.stdout.write(`${resolve(out)}\n`);
    else ctx.io.stderr.write(`wrote the post-mortem draft of ${incident.id} to ${out}\n`);
  }
}

/** The incident named, else the one opened last. */
async function chooseForPostmortem(store: IncidentStore, given: string | undefined): Promise<Incident> {
  const all = await store.list();
  if (given) {
    const found = await store.get(given.toUpperCase());
    if (!found) throw new UsageError(`no incident ${given} in ${store.where}`, 'aegis-ir incident list');
    return found;
  }
  const latest = [...all].sort((a, b) => Date.parse(a.openedAt) - Date.parse(b.openedAt) || a.id.localeCompare(b.id)).at(-1);
  if (!latest) throw new UsageError(`no incident in ${store.where}, so no post-mortem to write`, 'aegis-ir incident open --from-triage');
  return latest;
}

/**
 * The 24-hour checklist's "confirm service is restored": a triage run, its verdict journalled as
 * confirming `id` (so the post-mortem shows it), and said on stderr.
 */
export async function confirmRestored(ctx: Context, id: string): Promise<Report | null> {
  let report: Report;
  try {
    report = await triage(ctx);
  } catch (error) {
    // No cluster configured here (a laptop without a kubeconfig): the incident is still resolved, its checklist unconfirmed.
    if (error instanceof CancelledError) throw error;
    ctx.io.stderr.write(`service not confirmed restored: triage could not run: ${(error as Error).message}\n`);
    return null;
  }
  await journalVerdict(ctx, report, { confirms: id });
  const restored = report.severity === null && !report.assessedNothing && report.unknown.length === 0;
  ctx.io.stderr.write(
    restored
      ? `service restored: triage found no problem (${report.severityReason})\n`
      : `service not confirmed restored: triage: ${report.severity ? `${report.severity}: ` : ''}${report.severityReason}\n`,
  );
  return report;
}

/** The draft of `incident`, from its record, its window of the journal, what is still in effect and the configured rules. */
export function draftPostmortem(ctx: Context, store: IncidentStore, incident: Incident): Postmortem {
  const records = readAuditLog(auditLogPath(ctx));
  const journal = incidentJournal(records, incident);
  const runs = new Set(journal.map((r) => r.run));
  return postmortemOf({
    incident,
    journal,
    // The clocks as `incident status` reads them; nothing is sent from here.
    clock: new IncidentSession(ctx, store, {}).clock(incident),
    mitigations: mitigationsInEffect(records, ctx.clock.now())
      .filter((m) => runs.has(m.run))
      .map(({ run, remediation, target, appliedAt, revertCommand }) => ({ run, remediation, target, appliedAt, revertCommand })),
    rules: alertingRules(ctx.config).groups.flatMap((g) => g.rules),
  });
}

function writeDraft(path: string, text: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 'pass --out with a writable path');
  }
}
