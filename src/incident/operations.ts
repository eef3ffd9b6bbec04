import { randomUUID } from 'node:crypto';
import type { Context } from '../core/context.js';
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { operatorName } from '../core/operator.js';
import type { Severity } from '../core/severity.js';
import { dueEscalations, incidentClock, matrixLevels, type ClockSettings, type EscalationLevel, type IncidentClock } from './clock.js';
import {
  configuredServices,
  contacts,
  enqueue,
  escalationMessages,
  openingMessages,
  publicDraft,
  reminderMessages,
  resolutionMessages,
  updateMessages,
  type Configured,
  type Outgoing,
} from './messages.js';
import { deliver, type DeliveryReport, type Senders } from './outbox.js';
import { channelOf, isOpen, pendingMessages, type Incident, type IncidentStatus, type DETECTION_SOURCES } from './record.js';
import { journal } from './journal.js';
import type { IncidentStore } from './store.js';

/** What `incident open` is given, after its flags (or a triage run) were read. */
export interface OpenRequest {
  severity: Severity;
  title: string;
  impact: string | null;
  assessment: Record<string, unknown> | null;
  commander: string | null;
  startedAt: Date;
  detectedBy: (typeof DETECTION_SOURCES)[number] | null;
  customerFacing: boolean;
  security: boolean;
  findings: string[];
}

/**
 * One `incident` command's session: the store, the outbound senders and who is acting. Every
 * operation writes the record (and the messages it sends) first, then delivers; `flush` sends what
 * earlier commands left pending.
 */
export class IncidentSession {
  readonly operator: string;
  readonly run = randomUUID();
  readonly services: Configured;

  constructor(
    readonly ctx: Context,
    readonly store: IncidentStore,
    private readonly senders: Senders,
  ) {
    this.operator = operatorName(ctx.env);
    this.services = configuredServices(ctx.config);
  }

  get settings(): ClockSettings {
    return { updateEveryMs: this.ctx.config.incident.updateEvery, contacts: contacts(this.ctx.config) };
  }

  clock(incident: Incident): IncidentClock {
    return incidentClock(incident, this.ctx.clock.now(), this.settings);
  }

  async open(request: OpenRequest): Promise<Incident> {
    const now = this.ctx.clock.now();
    if (request.startedAt.getTime() > now.getTime()) {
      throw new UsageError(`--started ${request.startedAt.toISOString()} is in the future`, 'pass when it started: an ISO time or a duration ago such as 20m');
    }
    const opened = await this.store.create(now, (id) => {
      const base: Incident = {
        schemaVersion: 1,
        id,
        channel: channelOf(id),
        severity: request.severity,
        title: request.title,
        status: 'investigating',
        commander: request.commander,
        startedAt: request.startedAt.toISOString(),
        openedAt: now.toISOString(),
        resolvedAt: null,
        summary: null,
        detectedBy: request.detectedBy,
        customerFacing: request.customerFacing,
        security: request.security,
        impact: { summary: request.impact, assessment: request.assessment },
        findings: request.findings,
        publicDraft: null,
        updates: [],
        escalations: [],
        reminders: [],
        outbox: [],
        refs: { slackChannel: null, statuspageIncident: null },
        revision: 0,
      };
      const [primary] = matrixLevels(base, this.settings);
      const incident: Incident = {
        ...base,
        publicDraft: request.customerFacing ? publicDraft(base, this.settings.updateEveryMs) : null,
        updates: [
          { at: base.openedAt, message: `declared: ${request.title}`, status: 'investigating', severity: request.severity, public: false, by: this.operator },
        ],
        escalations: primary ? [{ at: base.openedAt, to: primary.role, contact: primary.contact, reason: 'matrix', by: this.operator }] : [],
      };
      return enqueue(incident, openingMessages(incident, this.services, this.ctx.config, this.operator), now);
    });
    await this.journal('incident-opened', opened.id, {
      severity: opened.severity,
      title: opened.title,
      startedAt: opened.startedAt,
      detectedBy: opened.detectedBy,
      impact: opened.impact.summary,
      findings: opened.findings,
    });
    return opened;
  }

  async update(id: string, change: { message: string; status?: IncidentStatus; severity?: Severity; at?: Date; public: boolean }): Promise<Incident> {
    if (change.public && !this.services.statuspage) {
      throw new UsageError(
        '--public sends the update to the status page, and none is configured',
        'set notify.statuspage.pageId in the config and AEGIS_IR_STATUSPAGE_API_KEY',
      );
    }
    const now = this.ctx.clock.now();
    const at = change.at ?? now;
    if (at.getTime() > now.getTime()) throw new UsageError(`--at ${at.toISOString()} is in the future`, 'pass when it was given: an ISO time or a duration ago such as 20m');
    const updated = await this.store.update(id, (before) => {
      mustBeOpen(before);
      if (change.public && !before.customerFacing) {
        throw new UsageError(`${id} is not customer-facing, so it has no status page incident`, `open customer-facing incidents with: aegis-ir incident open --customer-facing …`);
      }
      const after: Incident = {
        ...before,
        status: change.status ?? before.status,
        severity: change.severity ?? before.severity,
        updates: [
          ...before.updates,
          {
            at: at.toISOString(),
            message: change.message,
            status: change.status ?? before.status,
            severity: change.severity ?? before.severity,
            public: change.public,
            by: this.operator,
          },
        ],
      };
      return enqueue(after, updateMessages(before, after, change, this.services, this.ctx.config, this.operator), now);
    });
    const update = updated.updates[updated.updates.length - 1];
    await this.journal('incident-updated', id, { message: change.message, at: update?.at, status: update?.status, severity: update?.severity, public: change.public });
    return updated;
  }

  /** Brings in `role` (default: the matrix's next level), naming why. */
  async escalate(id: string, role: string | undefined): Promise<{ incident: Incident; level: EscalationLevel }> {
    const now = this.ctx.clock.now();
    const chosen: { level?: EscalationLevel } = {};
    const incident = await this.store.update(id, (before) => {
      mustBeOpen(before);
      const level = role ? this.levelNamed(before, role) : this.clock(before).next;
      if (!level) {
        throw new UsageError(`every level of the ${before.severity} escalation matrix is engaged for ${id}`, `bring in someone else by role: aegis-ir incident escalate ${id} --to "Engineering Manager"`);
      }
      chosen.level = level;
      return this.withEscalation(before, level, 'manual', `escalated by ${this.operator}`, now);
    });
    if (!chosen.level) throw new Error('unreachable: the change names the level or throws');
    await this.journal('incident-escalated', id, { to: chosen.level.role, contact: chosen.level.contact, reason: 'manual' });
    return { incident, level: chosen.level };
  }

  async resolve(id: string, summary: string | null): Promise<Incident> {
    const now = this.ctx.clock.now();
    const resolved = await this.store.update(id, (before) => {
      mustBeOpen(before);
      const resolved: Incident = {
        ...before,
        status: 'resolved',
        resolvedAt: now.toISOString(),
        summary,
        updates: [...before.updates, { at: now.toISOString(), message: summary ?? 'resolved', status: 'resolved', severity: before.severity, public: false, by: this.operator }],
      };
      return enqueue(resolved, resolutionMessages(resolved, this.services, this.ctx.config, this.operator), now);
    });
    await this.journal('incident-resolved', id, { summary });
    return resolved;
  }

  /**
   * What the clocks ask of an open incident now: each matrix level whose time has come is escalated
   * to once, and an overdue update is reminded once per due time. Returns what it did, for `watch`
   * to say on stderr. Safe to run from several terminals: each change is decided on the record read.
   */
  async tick(id: string): Promise<{ incident: Incident; escalated: EscalationLevel[]; reminded: string | null }> {
    const now = this.ctx.clock.now();
    let escalated: EscalationLevel[] = [];
    let reminded: string | null = null;
    const incident = await this.store.update(id, (before) => {
      escalated = [];
      reminded = null;
      if (!isOpen(before)) return null;
      let after = before;
      for (const level of dueEscalations(before, now, this.settings)) {
        after = this.withEscalation(after, level, 'matrix', `${level.role} is due at ${level.at} by the ${before.severity} matrix`, now);
        escalated.push(level);
      }
      const cadence = this.clock(after).update;
      if (cadence.overdue && cadence.dueAt && !after.reminders.includes(cadence.dueAt)) {
        reminded = cadence.dueAt;
        after = enqueue({ ...after, reminders: [...after.reminders, cadence.dueAt] }, reminderMessages(after, cadence.dueAt, this.services), now);
      }
      return after === before ? null : after;
    });
    for (const level of escalated as EscalationLevel[]) await this.journal('incident-escalated', id, { to: level.role, contact: level.contact, reason: 'matrix' });
    if (reminded) await this.journal('incident-reminded', id, { dueAt: reminded });
    return { incident, escalated, reminded };
  }

  /** Delivers the pending messages of every incident that has some, within the run's --timeout. */
  async flush(): Promise<DeliveryReport> {
    const report: DeliveryReport = { delivered: [], undelivered: [] };
    const deadline = Date.now() + this.ctx.config.timeout;
    for (const incident of await this.store.list()) {
      if (!pendingMessages(incident).length) continue;
      const one = await deliver(this.store, incident.id, this.senders, {
        deadline,
        by: this.run,
        now: () => this.ctx.clock.now(),
        signal: this.ctx.signal,
      });
      report.delivered.push(...one.delivered);
      report.undelivered.push(...one.undelivered);
      for (const m of one.delivered) await this.journal('delivery', incident.id, { service: m.service, action: m.action, message: m.id, outcome: 'delivered', attempts: m.attempts });
      for (const u of one.undelivered) await this.journal('delivery', incident.id, { service: u.message.service, action: u.message.action, message: u.message.id, outcome: 'undelivered', error: u.error });
    }
    return report;
  }

  /** One event of this session in the journal, under the incident it is about. */
  private journal(event: string, id: string, data: Record<string, unknown>): Promise<void> {
    return journal(this.ctx, event, data, { incidents: [id], run: this.run });
  }

  /** Adds a change to the outbox of the open incident (a remediation applied while it is open). */
  async note(id: string, messages: Outgoing[]): Promise<Incident> {
    const now = this.ctx.clock.now();
    return this.store.update(id, (before) => (messages.length ? enqueue(before, messages, now) : null));
  }

  private withEscalation(incident: Incident, level: EscalationLevel, reason: 'matrix' | 'manual', why: string, now: Date): Incident {
    const after: Incident = {
      ...incident,
      escalations: [...incident.escalations, { at: now.toISOString(), to: level.role, contact: level.contact, reason, by: this.operator }],
    };
    return enqueue(after, escalationMessages(after, level, why, this.services, this.operator), now);
  }

  /** A role by name, case-insensitively: the matrix's levels of any SEV and every configured contact. */
  private levelNamed(incident: Incident, role: string): EscalationLevel {
    const known = [...new Set([...matrixLevels(incident, this.settings).map((l) => l.role), 'Tech Lead', 'Engineering Manager', 'VP Engineering', ...Object.keys(this.settings.contacts)])];
    const name = known.find((k) => k.toLowerCase() === role.trim().toLowerCase());
    if (!name) {
      throw new UsageError(`unknown role "${role}"; expected one of: ${known.join(', ')}`, `add its contact under escalation.contacts in the config`);
    }
    const level = matrixLevels(incident, this.settings).find((l) => l.role === name);
    return level ?? { role: name, at: this.ctx.clock.now().toISOString(), contact: this.settings.contacts[name] ?? null };
  }
}

function mustBeOpen(incident: Incident): void {
  if (!isOpen(incident)) {
    throw new UsageError(`${incident.id} was resolved at ${incident.resolvedAt}`, `open a new one: aegis-ir incident open --sev ${incident.severity} --title "…"`);
  }
}

/** An instant as `--started` and `--at` take it: ISO 8601, or a duration ago (`20m`, `1h30m`). */
export function parseInstant(text: string, now: Date, flag: string): Date {
  const ago = parseDuration(text);
  if (ago !== undefined) return new Date(now.getTime() - ago);
  if (/^\d{4}-\d{2}-\d{2}T/.test(text.trim())) {
    const at = Date.parse(text);
    if (!Number.isNaN(at)) return new Date(at);
  }
  throw new UsageError(`${flag} "${text}" is not a time; expected an ISO 8601 instant (2026-12-01T03:12:00Z) or a duration ago (20m)`, `aegis-ir incident ${flag === '--at' ? 'update' : 'open'} --help`);
}

/**
 * The incident an ID-less command means: the one open incident. None, or several, is a usage error
 * that lists them so the operator can name one.
 */
export async function chooseIncident(store: IncidentStore, given: string | undefined): Promise<string> {
  if (given) return given.toUpperCase();
  const open = (await store.list()).filter(isOpen);
  const [only] = open;
  if (only && open.length === 1) return only.id;
  if (!open.length) {
    throw new UsageError(`no open incident in ${store.where}`, 'open one: aegis-ir incident open --sev SEV2 --title "…", or see all: aegis-ir incident list');
  }
  throw new UsageError(
    `${open.length} incidents are open: ${open.map((i) => `${i.id} (${i.severity} ${i.title})`).join(', ')}; name the one you mean`,
    `e.g. aegis-ir incident status ${open[0]?.id ?? ''}`,
  );
}
