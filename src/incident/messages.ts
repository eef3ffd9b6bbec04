import type { Config } from '../core/config.js';
import { formatDuration } from '../core/duration.js';
import { SEVERITY_CLASSES, type Severity } from '../core/severity.js';
import type { EscalationLevel } from './clock.js';
import type { Incident, IncidentStatus, OutboxMessage, Service } from './record.js';

/** A message to put in the outbox; the outbox gives it an id and its delivery state. */
export interface Outgoing {
  service: Service;
  action: string;
  body: Record<string, unknown>;
}

/** Which outbound services are configured (each is optional). */
export interface Configured {
  slack: boolean;
  /** A bot token: the incident gets its own channel; a webhook posts to its one channel. */
  slackApi: boolean;
  pagerduty: boolean;
  statuspage: boolean;
}

export function configuredServices(config: Config): Configured {
  const { slack, pagerduty, statuspage } = config.notify;
  return {
    slack: Boolean(slack.token || slack.webhookUrl),
    slackApi: Boolean(slack.token),
    pagerduty: Boolean(pagerduty.routingKey),
    statuspage: Boolean(statuspage.apiKey && statuspage.pageId),
  };
}

/** Events API v2 severities: SEV1 critical, SEV2 error, SEV3 warning, SEV4 info. */
export const PAGERDUTY_SEVERITY: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = {
  SEV1: 'critical',
  SEV2: 'error',
  SEV3: 'warning',
  SEV4: 'info',
};

/** Appends messages to the outbox, in order, with ids unique in the record. */
export function enqueue(incident: Incident, messages: Outgoing[], now: Date): Incident {
  const made: OutboxMessage[] = messages.map((m, i) => ({
    id: `${incident.id}/${incident.outbox.length + i + 1}`,
    service: m.service,
    action: m.action,
    body: m.body,
    createdAt: now.toISOString(),
    attempts: 0,
    deliveredAt: null,
    sending: null,
    unconfirmed: false,
    lastError: null,
  }));
  return { ...incident, outbox: [...incident.outbox, ...made] };
}

/** A Slack message: the `text` fallback (notifications, screen readers) and its Block Kit layout. */
function slackPost(channel: string, text: string, fields: Array<[string, string]> = [], header?: string): Outgoing {
  const blocks: unknown[] = [];
  if (header) blocks.push({ type: 'header', text: { type: 'plain_text', text: header.slice(0, 150), emoji: true } });
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: escapeSlack(text) } });
  if (fields.length) {
    blocks.push({
      type: 'section',
      fields: fields.slice(0, 10).map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${escapeSlack(v)}` })),
    });
  }
  return { service: 'slack', action: 'post', body: { channel, text: escapeSlack(header ? `${header}: ${text}` : text), blocks } };
}

/** Slack's three control characters in message text. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The channel a post goes to: `incident` is the incident's own (or the webhook's); others are named. */
const INCIDENT_CHANNEL = 'incident';

function pagerdutyEvent(incident: Incident, action: 'trigger' | 'acknowledge' | 'resolve', source: string): Outgoing {
  const body: Record<string, unknown> = { event_action: action, dedup_key: incident.id };
  if (action === 'trigger') {
    body.payload = {
      summary: `${incident.severity} ${incident.id}: ${incident.title}`.slice(0, 1024),
      source,
      severity: PAGERDUTY_SEVERITY[incident.severity],
      component: 'aegis-api',
      group: 'cloud-aegis',
      class: 'incident',
      custom_details: {
        channel: incident.channel,
        impact: incident.impact.summary,
        startedAt: incident.startedAt,
        commander: incident.commander,
        findings: incident.findings,
      },
    };
  }
  return { service: 'pagerduty', action, body };
}

/** Contacts of the runbook's Contact Information, overridden by `escalation.contacts`. */
export function contacts(config: Config): Record<string, string> {
  return {
    'On-Call': 'pagerduty',
    'Engineering Manager': '@eng-manager',
    Security: '#security-ops',
    'Customer Success': '#customer-success',
    ...config.escalation.contacts,
  };
}

/**
 * What opening an incident sends: the channel (with a bot token), the initial update — what is
 * happening, who is investigating, the current impact, the SEV and its response time — the page for
 * SEV1–2 (acknowledged at once when a commander takes it), and word to Customer Success and Security
 * when the incident concerns them.
 */
export function openingMessages(incident: Incident, services: Configured, config: Config, source: string): Outgoing[] {
  const out: Outgoing[] = [];
  const sevClass = SEVERITY_CLASSES[incident.severity];
  const who = contacts(config);
  if (services.slack) {
    if (services.slackApi) out.push({ service: 'slack', action: 'create-channel', body: { name: incident.channel.slice(1) } });
    const happening = incident.findings.length ? `${incident.title} (${incident.findings.join('; ')})` : incident.title;
    out.push(
      slackPost(
        INCIDENT_CHANNEL,
        `${incident.severity} incident declared by ${incident.commander ?? 'the on-call'}; respond within ${sevClass.responseTime}. Follow ${incident.channel}.`,
        [
          ["What's happening", happening],
          ['Who is investigating', incident.commander ?? 'unassigned (on-call)'],
          ['Current impact', incident.impact.summary ?? 'being assessed'],
          ['Severity', `${incident.severity}: ${sevClass.description}; respond within ${sevClass.responseTime}`],
          ['Started', incident.startedAt],
          ['Channel', incident.channel],
        ],
        `${incident.id} ${incident.severity}: ${incident.title}`,
      ),
    );
    const cc = (role: string, why: string) => {
      const channel = who[role];
      if (!channel) return;
      out.push(slackPost(services.slackApi && channel.startsWith('#') ? channel : INCIDENT_CHANNEL, `${channel}: ${why} ${incident.id} ${incident.severity}: ${incident.title} — follow ${incident.channel}`));
    };
    if (incident.customerFacing) cc('Customer Success', 'customer-facing incident');
    if (incident.security) cc('Security', 'security incident');
  }
  if (services.pagerduty && pages(incident.severity)) {
    out.push(pagerdutyEvent(incident, 'trigger', source));
    if (incident.commander) out.push(pagerdutyEvent(incident, 'acknowledge', source));
  }
  return out;
}

/** SEV1–2 page the on-call; SEV3–4 do not. */
function pages(severity: Severity): boolean {
  return severity === 'SEV1' || severity === 'SEV2';
}

/** An update: to the channel, to the status page with `--public`, and a page when the SEV was raised to SEV1–2. */
export function updateMessages(
  before: Incident,
  after: Incident,
  update: { message: string; public: boolean },
  services: Configured,
  config: Config,
  source: string,
): Outgoing[] {
  const out: Outgoing[] = [];
  const changes = [
    before.status !== after.status ? `status ${before.status} → ${after.status}` : null,
    before.severity !== after.severity ? `${before.severity} → ${after.severity}` : null,
  ].filter((c): c is string => c !== null);
  if (services.slack) {
    out.push(slackPost(INCIDENT_CHANNEL, `${after.id} update (${after.status}, ${after.severity}${changes.length ? `; ${changes.join(', ')}` : ''}): ${update.message}`));
  }
  if (services.pagerduty && pages(after.severity) && (!pages(before.severity) || before.severity !== after.severity)) {
    out.push(pagerdutyEvent(after, 'trigger', source));
  }
  if (update.public && services.statuspage) out.push(statuspageMessage(after, update.message, config, after.status));
  return out;
}

/** The status-page incident: created by the first public update, updated by the next, resolved with the incident. */
function statuspageMessage(incident: Incident, text: string, config: Config, status: IncidentStatus): Outgoing {
  const { components, componentStatus } = config.notify.statuspage;
  const state = status === 'resolved' ? 'operational' : componentStatus;
  return {
    service: 'statuspage',
    action: incident.outbox.some((m) => m.service === 'statuspage') ? 'update-incident' : 'create-incident',
    body: {
      incident: {
        name: incident.title,
        status,
        body: text,
        ...(components.length ? { component_ids: components, components: Object.fromEntries(components.map((c) => [c, state])) } : {}),
      },
    },
  };
}

/** The customer communication drafted at open, for review; `update --public` sends it (or a better one). */
export function publicDraft(incident: Incident, updateEveryMs: number): string {
  // Words for customers, not the findings: the operator reviews it and sends it with `update --public`.
  const what = incident.severity === 'SEV1' ? 'an outage of' : incident.severity === 'SEV2' ? 'degraded service on' : 'an issue affecting';
  return `We are investigating ${what} Cloud Aegis. We will post an update within ${formatDuration(updateEveryMs)}.`;
}

/** Bringing in the next level: a post naming the contact, and a fresh page when the contact is PagerDuty. */
export function escalationMessages(incident: Incident, level: EscalationLevel, why: string, services: Configured, source: string): Outgoing[] {
  const out: Outgoing[] = [];
  const contact = level.contact ?? 'no contact configured (escalation.contacts)';
  if (services.slack) out.push(slackPost(INCIDENT_CHANNEL, `${incident.id} escalated to ${level.role} (${contact}): ${why}`));
  if (services.pagerduty && level.contact === 'pagerduty') out.push(pagerdutyEvent(incident, 'trigger', source));
  return out;
}

/** `watch`'s reminder in the channel that an update is due. */
export function reminderMessages(incident: Incident, dueAt: string, services: Configured): Outgoing[] {
  return services.slack
    ? [slackPost(INCIDENT_CHANNEL, `${incident.id} (${incident.severity}): an update was due at ${dueAt}; post one with: aegis-ir incident update ${incident.id} "…"`)]
    : [];
}

/** Resolving: the channel, the page (same dedup_key) and the status-page incident when there is one. */
export function resolutionMessages(incident: Incident, services: Configured, config: Config, source: string): Outgoing[] {
  const out: Outgoing[] = [];
  const lasted = formatDuration(Date.parse(incident.resolvedAt ?? incident.openedAt) - Date.parse(incident.startedAt));
  const summary = incident.summary ?? 'resolved';
  if (services.slack) out.push(slackPost(INCIDENT_CHANNEL, `${incident.id} resolved after ${lasted}: ${summary}`));
  if (services.pagerduty && incident.outbox.some((m) => m.service === 'pagerduty' && m.action === 'trigger')) {
    out.push(pagerdutyEvent(incident, 'resolve', source));
  }
  if (services.statuspage && incident.outbox.some((m) => m.service === 'statuspage')) {
    out.push(statuspageMessage(incident, `This incident has been resolved. ${summary}`, config, 'resolved'));
  }
  return out;
}

/** A PagerDuty change event for a remediation applied while the incident is open. */
export function changeMessage(incident: Pick<Incident, 'id'>, summary: string, details: Record<string, unknown>, at: Date, source: string): Outgoing {
  return {
    service: 'pagerduty',
    action: 'change',
    body: { payload: { summary: `${incident.id}: ${summary}`.slice(0, 1024), source, timestamp: at.toISOString(), custom_details: details } },
  };
}
