import { setTimeout as sleep } from 'node:timers/promises';
import { Command, Option } from 'commander';
import { impactSummary } from '../checks/impact.js';
import type { Report } from '../checks/verdict.js';
import type { Context } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import { CancelledError, ExitCode, UsageError } from '../core/errors.js';
import { SEVERITIES, parseSeverity, type Severity } from '../core/severity.js';
import type { DeliveryReport } from '../incident/outbox.js';
import type { IncidentSession, OpenRequest } from '../incident/operations.js';
import type { Incident, IncidentStatus } from '../incident/record.js';
import { DETECTION_SOURCES, OPEN_STATUSES } from '../incident/statuses.js';
import type { IncidentView } from '../incident/render.js';
import { DOCUMENT_FORMATS, print, requireFormat } from '../render/output.js';
import { HELP_WIDTH, examples, type CommandHost } from './host.js';
import { reflow } from '../render/wrap.js';
import { triage } from './triage.js';

/**
 * `incident open|update|escalate|status|list|resolve|watch`: the runbook's Communication and
 * Escalation Matrix. Every subcommand first writes the record, then delivers what its outbox holds —
 * its own messages and any an earlier command could not deliver — and exits 4 naming the service
 * when something is still undelivered.
 */
export function incidentCommand(host: CommandHost): Command {
  const incident = new Command('incident').addHelpText(
    'after',
    examples(
      'aegis-ir incident open --from-triage                    # SEV, title, impact and start from a triage run',
      'aegis-ir incident open --sev SEV2 --title "Checkout errors" --started 20m --commander alice',
      'aegis-ir incident update "Rolled back to v2.4.0; error rate falling" --status monitoring',
      'aegis-ir incident status',
      'aegis-ir incident watch                                 # reminders and escalation on time, until resolved',
      'aegis-ir incident resolve --summary "Rollback restored service"',
    ) +
      `\n${reflow('Slack (notify.slack.webhookUrl or .token), PagerDuty (notify.pagerduty.routingKey) and Statuspage (notify.statuspage.pageId and .apiKey) are each optional; see README "Incidents".', HELP_WIDTH)}\n`,
  );
  incident.addCommand(
    new Command('open')
      .description('Declare an incident: the record, its channel, the initial update and the page')
      .addOption(new Option('--sev <sev>', `severity: ${SEVERITIES.join(', ')} (or 1-4)`))
      .option('--title <text>', 'what is happening, in a line')
      .option('--impact <text>', 'the current impact, in a line')
      .option('--commander <name>', 'the incident commander (acknowledges the page)')
      .option('--customer-facing', 'customers are affected: tell Customer Success, draft the status-page text')
      .option('--security', 'a security incident: bring in Security')
      .option('--started <time>', 'when it started: an ISO 8601 time or a duration ago (20m); default now')
      .option('--from-triage', 'run triage and take the SEV, the deciding findings, the start and the impact from it')
      .addOption(new Option('--detected-by <source>', 'where it was noticed first').choices([...DETECTION_SOURCES]))
      .addHelpText('after', examples('aegis-ir incident open --from-triage', 'aegis-ir incident open --sev 1 --title "API down" --started 2026-12-01T03:12:00Z --detected-by pagerduty'))
      .action(async (options: OpenOptions, command: Command) => {
        await run(host, command, 'incident open', async (ctx, session, ops) => {
          const { request, verdict } = await openRequest(ctx, options, ops);
          const created = await session.open(request);
          if (verdict) await (await import('../incident/journal.js')).journalVerdict(ctx, verdict.report, { declares: created.id, at: verdict.at });
          return { ids: [created.id], headline: `Opened ${created.id} (${created.channel}) ${created.severity}: ${created.title}`, next: afterOpen(created) };
        });
      }),
  );
  incident.addCommand(
    new Command('update')
      .description('Post an update to the incident channel (and, with --public, the status page)')
      .argument('<words...>', '[ID] MESSAGE')
      .addOption(new Option('--status <status>', 'where it stands now').choices([...OPEN_STATUSES]))
      .addOption(new Option('--sev <sev>', 'a new severity'))
      .option('--at <time>', 'when the update was given, if earlier: an ISO 8601 time or a duration ago (20m)')
      .option('--public', 'also post it to the status page (customer-facing incidents)')
      .addHelpText('after', examples('aegis-ir incident update "Rolled back; watching the error rate" --status monitoring', 'aegis-ir incident update INC-20261201-01 "Given on the bridge call" --at 20m'))
      .action(async (words: string[], options: { status?: IncidentStatus; sev?: string; at?: string; public?: boolean }, command: Command) => {
        await run(host, command, 'incident update', async (ctx, session, { chooseIncident, parseInstant }) => {
          const [first, ...rest] = words;
          const named = first && /^INC-\d{8}-\d+$/i.test(first) && rest.length ? first : undefined;
          const message = (named ? rest : words).join(' ').trim();
          if (!message) throw new UsageError('an update needs a message', 'aegis-ir incident update "What changed, what is next"');
          const id = await chooseIncident(session.store, named);
          const now = ctx.clock.now();
          const updated = await session.update(id, {
            message,
            status: options.status,
            severity: options.sev ? severityOf(options.sev, '--sev') : undefined,
            at: options.at ? parseInstant(options.at, now, '--at') : undefined,
            public: Boolean(options.public),
          });
          return { ids: [updated.id], headline: `Updated ${updated.id}`, next: [] };
        });
      }),
  );
  incident.addCommand(
    new Command('escalate')
      .description('Bring in the next level of the escalation matrix now (or the role named)')
      .argument('[id]', 'incident id (default: the one open incident)')
      .option('--to <role>', 'the role to bring in, e.g. "Engineering Manager"')
      .action(async (id: string | undefined, options: { to?: string }, command: Command) => {
        await run(host, command, 'incident escalate', async (_ctx, session, { chooseIncident }) => {
          const { incident: escalated, level } = await session.escalate(await chooseIncident(session.store, id), options.to);
          return { ids: [escalated.id], headline: `Escalated ${escalated.id} to ${level.role}${level.contact ? ` (${level.contact})` : ''}`, next: [] };
        });
      }),
  );
  incident.addCommand(
    new Command('status')
      .description('SEV, elapsed time, response time, who is engaged and who is next, update due, undelivered messages')
      .argument('[id]', 'incident id (default: the one open incident)')
      .action(async (id: string | undefined, _options, command: Command) => {
        await run(host, command, 'incident status', async (_ctx, session, { chooseIncident }) => ({ ids: [await chooseIncident(session.store, id)], headline: null, next: [] }));
      }),
  );
  incident.addCommand(
    new Command('list')
      .description('Every incident in the store, open ones first')
      .action(async (_options, command: Command) => {
        await run(host, command, 'incident list', async (_ctx, session, { isOpen }) => {
          const all = await session.store.list();
          const ordered = [...all.filter(isOpen).reverse(), ...all.filter((i) => !isOpen(i)).reverse()];
          return { ids: ordered.map((i) => i.id), headline: null, next: [], brief: true };
        });
      }),
  );
  incident.addCommand(
    new Command('resolve')
      .description('Resolve the incident: the channel, the page and the status page are told')
      .argument('[id]', 'incident id (default: the one open incident)')
      .option('--summary <text>', 'what ended it, in a line')
      .action(async (id: string | undefined, options: { summary?: string }, command: Command) => {
        await run(host, command, 'incident resolve', async (ctx, session, { chooseIncident }) => {
          const chosen = await chooseIncident(session.store, id);
          const { confirmRestored, draftPostmortem } = await import('./postmortem-draft.js');
          // While it is still open, so the triage joins the incident's timeline; a resolved one is refused by resolve itself.
          if ((await session.store.get(chosen))?.status !== 'resolved') await confirmRestored(ctx, chosen);
          const resolved = await session.resolve(chosen, options.summary ?? null);
          return {
            ids: [resolved.id],
            headline: `Resolved ${resolved.id}`,
            checklist: draftPostmortem(ctx, session.store, resolved).checklist,
            next: [`aegis-ir postmortem ${resolved.id}   # the draft: timeline, the 24h checklist, root cause, action items`],
          };
        });
      }),
  );
  incident.addCommand(
    new Command('watch')
      .description('Stay running: remind when an update is due, escalate on time, exit when the incident is resolved')
      .argument('[id]', 'incident id (default: the one open incident)')
      .action(async (id: string | undefined, _options, command: Command) => {
        await run(host, command, 'incident watch', async (ctx, session, ops) => watch(ctx, session, await ops.chooseIncident(session.store, id), ops));
      }),
  );
  return incident;
}

interface OpenOptions {
  sev?: string;
  title?: string;
  impact?: string;
  commander?: string;
  customerFacing?: boolean;
  security?: boolean;
  started?: string;
  fromTriage?: boolean;
  detectedBy?: OpenRequest['detectedBy'];
}

/** What a subcommand did, for the shared rendering: the incidents to show and what to say first. */
interface Outcome {
  ids: string[];
  headline: string | null;
  next: string[];
  brief?: boolean;
  /** The 24-hour checklist as far as the tool could do it (`resolve`). */
  checklist?: IncidentView['checklist'];
}

/** The incident operations and the record's helpers, loaded when a subcommand runs (the record's schema, the senders), not for --help. */
type IncidentOps = typeof import('../incident/operations.js') & Pick<typeof import('../incident/record.js'), 'isOpen'> & Pick<typeof import('../incident/outbox.js'), 'SERVICE_NAMES'>;

/**
 * The frame every subcommand runs in: the context, the store and the senders; then what the
 * outbox holds is delivered, the result rendered once, and the exit code set (4 when a message
 * is still undelivered, naming its service).
 */
async function run(host: CommandHost, command: Command, name: string, body: (ctx: Context, session: IncidentSession, ops: IncidentOps) => Promise<Outcome>): Promise<void> {
  const ctx = await host.context(command);
  // Before anything is written or sent: an incident has no report for junit or markdown.
  requireFormat(ctx, DOCUMENT_FORMATS);
  const [operations, { isOpen }, { SERVICE_NAMES }, { incidentDocument, incidentText }, { outboundSenders }, { openStore }] = await Promise.all([
    import('../incident/operations.js'),
    import('../incident/record.js'),
    import('../incident/outbox.js'),
    import('../incident/render.js'),
    import('../incident/senders.js'),
    import('../incident/store.js'),
  ]);
  const ops: IncidentOps = { ...operations, isOpen, SERVICE_NAMES };
  const session = new operations.IncidentSession(ctx, await openStore(ctx), outboundSenders(ctx));
  const outcome = await body(ctx, session, ops);
  const delivery = await session.flush();
  const incidents: Incident[] = [];
  for (const id of outcome.ids) {
    const found = await session.store.get(id);
    if (!found) throw new UsageError(`no incident ${id} in ${session.store.where}`, 'aegis-ir incident list');
    incidents.push(found);
  }
  const view: IncidentView = {
    command: name,
    incidents: incidents.map((incident) => ({ incident, clock: session.clock(incident) })),
    delivery,
    headline: outcome.headline,
    next: outcome.next,
    ...(outcome.checklist ? { checklist: outcome.checklist } : {}),
  };
  await print(ctx, { document: incidentDocument(view), text: (options) => incidentText(view, { color: options.color, now: ctx.clock.now(), brief: Boolean(outcome.brief) }) });
  host.exit(reportUndelivered(ctx, delivery, SERVICE_NAMES));
}

/** Exit 4 when a message is still undelivered, with one line per service on stderr. */
function reportUndelivered(ctx: Context, delivery: DeliveryReport, serviceNames: IncidentOps['SERVICE_NAMES']): number {
  if (!delivery.undelivered.length) return ExitCode.ok;
  const services = [...new Set(delivery.undelivered.map((u) => u.message.service))];
  for (const service of services) {
    const first = delivery.undelivered.find((u) => u.message.service === service);
    ctx.io.stderr.write(
      `aegis-ir: ${serviceNames[service]}: ${first?.error ?? 'not delivered'}\n` +
        `  the message stays in the incident's outbox and is sent again by the next incident command, e.g.: aegis-ir incident status ${first?.message.id.split('/')[0] ?? ''}\n`,
    );
  }
  return ExitCode.unreachable;
}

/** What `incident open` is asked to open, and the triage it was read from (`--from-triage`), reached at `at`. */
async function openRequest(ctx: Context, options: OpenOptions, { parseInstant }: IncidentOps): Promise<{ request: OpenRequest; verdict?: { report: Report; at: Date } }> {
  const now = ctx.clock.now();
  const base = {
    commander: options.commander ?? null,
    customerFacing: Boolean(options.customerFacing),
    security: Boolean(options.security),
    detectedBy: options.detectedBy ?? (options.fromTriage ? 'aegis-ir' : null),
  };
  const started = options.started ? parseInstant(options.started, now, '--started') : null;
  if (!options.fromTriage) {
    if (!options.sev || !options.title) {
      throw new UsageError(
        `incident open needs ${!options.sev ? '--sev' : '--title'}${!options.sev && !options.title ? ' and --title' : ''} (or --from-triage)`,
        'aegis-ir incident open --sev SEV2 --title "Checkout errors", or: aegis-ir incident open --from-triage',
      );
    }
    return { request: { ...base, severity: severityOf(options.sev, '--sev'), title: options.title, impact: options.impact ?? null, assessment: null, startedAt: started ?? now, findings: [] } };
  }
  const report = await triage(ctx);
  const at = ctx.clock.now();
  const severity = options.sev ? severityOf(options.sev, '--sev') : report.severity;
  if (!severity) {
    throw new UsageError(`triage classified no severity (${report.severityReason}); nothing to open from it`, 'declare one yourself: aegis-ir incident open --sev SEV4 --title "…"');
  }
  const deciding = report.findings.filter((f) => f.severity === report.severity);
  const triageStart = report.impact?.startedAt.value;
  const request = {
    ...base,
    severity,
    title: options.title ?? deciding[0]?.summary ?? report.severityReason,
    impact: options.impact ?? (report.impact ? impactSummary(report.impact) : null),
    assessment: report.impact ? { ...report.impact } : null,
    startedAt: started ?? (triageStart ? new Date(triageStart) : now),
    findings: deciding.map((f) => `${f.code} ${f.summary}`),
  };
  return { request, verdict: { report, at } };
}

function severityOf(text: string, flag: string): Severity {
  const severity = parseSeverity(text);
  if (!severity) throw new UsageError(`${flag} "${text}" is not a severity; expected one of ${SEVERITIES.join(', ')} (or 1-4)`, `aegis-ir incident ${flag === '--sev' ? 'open' : 'update'} --help`);
  return severity;
}

function afterOpen(created: Incident): string[] {
  const next = [`aegis-ir incident update ${created.id} "What we know, what we are doing" --status investigating`, `aegis-ir incident watch ${created.id}`];
  if (created.publicDraft) next.unshift(`aegis-ir incident update ${created.id} --public "${created.publicDraft}"`);
  return next;
}

/** How often `watch` looks at the record when nothing is due sooner: another operator may resolve it. */
const WATCH_POLL_MS = 5_000;

/**
 * `incident watch`: each round escalates what the matrix says is due, reminds once per due update
 * (stderr and Slack), delivers the outbox, then sleeps until the next thing is due. Ctrl-C ends it
 * between two writes, so the record is always whole (every write is atomic).
 */
async function watch(ctx: Context, session: IncidentSession, id: string, { isOpen, SERVICE_NAMES }: IncidentOps): Promise<Outcome> {
  ctx.io.stderr.write(`watching ${id}; Ctrl-C to stop (the incident stays open)\n`);
  for (;;) {
    const { incident, escalated, reminded } = await session.tick(id);
    if (!isOpen(incident)) return { ids: [id], headline: `${id} was resolved`, next: [] };
    for (const level of escalated) ctx.io.stderr.write(`${stamp(ctx)} ${id}: escalated to ${level.role}${level.contact ? ` (${level.contact})` : ''} by the ${incident.severity} matrix\n`);
    if (reminded) ctx.io.stderr.write(`${stamp(ctx)} ${id}: an update was due at ${reminded}: aegis-ir incident update ${id} "…"\n`);
    const delivery = await session.flush();
    for (const u of delivery.undelivered) ctx.io.stderr.write(`${stamp(ctx)} ${SERVICE_NAMES[u.message.service]}: ${u.error} (will retry)\n`);
    const clock = session.clock(incident);
    const now = ctx.clock.now().getTime();
    const upcoming = [clock.next?.at, clock.update.overdue ? undefined : clock.update.dueAt].filter((t): t is string => Boolean(t)).map((t) => Date.parse(t) - now);
    const wait = Math.max(200, Math.min(WATCH_POLL_MS, ...upcoming.map((ms) => ms + 50)));
    ctx.logger.debug(`watch: next look in ${formatDuration(wait)}`);
    try {
      await sleep(wait, undefined, { signal: ctx.signal });
    } catch {
      throw new CancelledError(`stopped watching ${id}; it is still open and its record is intact`);
    }
  }
}

function stamp(ctx: Context): string {
  return ctx.clock.now().toISOString().slice(11, 19);
}
