import * as z from 'zod';
import { SEVERITIES } from '../core/severity.js';

import { DETECTION_SOURCES, OPEN_STATUSES } from './statuses.js';

export { DETECTION_SOURCES, OPEN_STATUSES };
export const STATUSES = [...OPEN_STATUSES, 'resolved'] as const;
export type IncidentStatus = (typeof STATUSES)[number];

/** The outbound services a message can go to. */
export const SERVICES = ['slack', 'pagerduty', 'statuspage'] as const;
export type Service = (typeof SERVICES)[number];

/**
 * The incident record (SPEC `incident`): everything needed to run the communication and escalation
 * of one incident and to write its timeline afterwards. Stored as JSON, locally or in a ConfigMap.
 *
 * Built on first use: every command that journals (triage, diagnose, fix) loads this module, and most find no
 * record to read; zod schemas are costly to build at every start.
 */
export const incidentSchema = z.lazy(() => {
  const severity = z.enum(SEVERITIES);
  const instant = z.iso.datetime();

  /** One update given to the incident channel (and, `public`, to the status page). */
  const updateSchema = z.object({
    at: instant,
    message: z.string(),
    status: z.enum(STATUSES),
    severity,
    public: z.boolean(),
    by: z.string(),
  });

  /** A level of the escalation matrix brought in: by its timer (`watch`) or by an operator (`escalate`). */
  const escalationSchema = z.object({
    at: instant,
    to: z.string(),
    contact: z.string().nullable(),
    reason: z.enum(['matrix', 'manual']),
    by: z.string(),
  });

  /**
   * One outbound message. It is written to the record before it is sent and marked delivered only on
   * a 2xx, so a crash, a rate limit or an outage never loses it: the next `incident` command sends it
   * again. `body` is the payload without credentials (those come from the configuration when sending).
   */
  const messageSchema = z.object({
    id: z.string(),
    service: z.enum(SERVICES),
    /** What to do at the service, e.g. `post`, `create-channel`, `trigger`, `change`, `create-incident`. */
    action: z.string(),
    body: z.record(z.string(), z.unknown()),
    createdAt: instant,
    attempts: z.number().int().nonnegative(),
    deliveredAt: instant.nullable(),
    /**
     * Set while a run is sending it (so a concurrent run leaves it alone), until `until`. A Slack post
     * whose attempt ended without an answer keeps `unconfirmed`: it may have been posted, so it is never
     * sent again by itself (Slack has no idempotency key).
     */
    sending: z.object({ by: z.string(), until: instant }).nullable(),
    unconfirmed: z.boolean(),
    lastError: z.string().nullable(),
  });

  /** The impact as the record keeps it: a line of text and, from `--from-triage`, the triage's impact block. */
  const impactSchema = z.object({
    summary: z.string().nullable(),
    assessment: z.record(z.string(), z.unknown()).nullable(),
  });

  return z.object({
    schemaVersion: z.literal(1),
    id: z.string().regex(/^INC-\d{8}-\d{2,}$/),
    channel: z.string(),
    severity,
    title: z.string().min(1),
    status: z.enum(STATUSES),
    commander: z.string().nullable(),
    startedAt: instant,
    openedAt: instant,
    resolvedAt: instant.nullable(),
    summary: z.string().nullable(),
    detectedBy: z.enum(DETECTION_SOURCES).nullable(),
    customerFacing: z.boolean(),
    security: z.boolean(),
    impact: impactSchema,
    /** The findings that decided the SEV, when opened from a triage run. */
    findings: z.array(z.string()),
    /** The customer communication drafted at open, for review before `update --public` sends it. */
    publicDraft: z.string().nullable(),
    updates: z.array(updateSchema),
    escalations: z.array(escalationSchema),
    /** Due times of update reminders already given, so `watch` reminds once per due time. */
    reminders: z.array(instant),
    outbox: z.array(messageSchema),
    /** Ids the services gave back (the Slack channel, the status-page incident). */
    refs: z.object({ slackChannel: z.string().nullable(), statuspageIncident: z.string().nullable() }),
    /** Bumped by every write, so a reader can tell two versions apart. */
    revision: z.number().int().nonnegative(),
  });
});
export type Incident = z.infer<typeof incidentSchema>;
export type IncidentUpdate = Incident['updates'][number];
export type IncidentEscalation = Incident['escalations'][number];
export type OutboxMessage = Incident['outbox'][number];

/** `INC-20261201-03` for the third incident opened on 1 December 2026 (UTC). */
export function incidentId(openedAt: Date, sequence: number): string {
  return `INC-${utcDay(openedAt)}-${String(sequence).padStart(2, '0')}`;
}

/** `20261201`: the UTC day an incident number belongs to. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10).replace(/-/g, '');
}

/** The runbook's channel for an incident: `#incident-20261201-03`. */
export function channelOf(id: string): string {
  return `#incident-${id.slice('INC-'.length)}`;
}

export function isOpen(incident: Incident): boolean {
  return incident.status !== 'resolved';
}

/** Messages not delivered yet, in the order they were written. */
export function pendingMessages(incident: Incident): OutboxMessage[] {
  return incident.outbox.filter((m) => m.deliveredAt === null);
}
