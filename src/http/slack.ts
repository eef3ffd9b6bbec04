import * as z from 'zod';
import type { Config } from '../core/config.js';
import { DeliveryError, type Sender } from '../incident/outbox.js';
import type { Incident, OutboxMessage } from '../incident/record.js';
import { delivering } from './delivery.js';
import type { HttpPort } from './port.js';

/** Slack Web API answers 200 with `ok`; failures name an `error` code (`channel_not_found`, `invalid_auth`…). */
const webApiAnswer = z.looseObject({
  ok: z.boolean(),
  error: z.string().optional(),
  channel: z.union([z.string(), z.looseObject({ id: z.string(), name: z.string().optional() })]).optional(),
});

/** Web API errors that retrying cannot fix are final; these are Slack's own transient ones. */
const TRANSIENT = new Set(['ratelimited', 'service_unavailable', 'internal_error', 'fatal_error', 'request_timeout']);

/**
 * Slack: with a bot token the Web API (`conversations.create` for the incident channel, then
 * `chat.postMessage` there with Block Kit and a `text` fallback); with only an incoming webhook, every
 * post goes to the webhook's channel and answers plain-text `ok` (or `invalid_payload`, `no_service`…).
 */
export function slackSender(http: HttpPort, settings: Config['notify']['slack']): Sender {
  const service = 'Slack';
  const target = 'slack';
  const webApi = async (method: string, body: Record<string, unknown>, signal: AbortSignal) => {
    const { data } = await delivering(() =>
      http.request({
        service,
        target,
        method: 'POST',
        url: `${settings.apiUrl.replace(/\/$/, '')}/${method}`,
        headers: { Authorization: `Bearer ${settings.token}` },
        body,
        schema: webApiAnswer,
        signal,
        hint: 'check notify.slack.token (AEGIS_IR_SLACK_TOKEN) and its scopes: channels:manage, chat:write',
      }),
    );
    return data;
  };
  return {
    async send(message: OutboxMessage, incident: Incident, signal: AbortSignal) {
      if (settings.token) {
        if (message.action === 'create-channel') {
          const answer = await webApi('conversations.create', { name: message.body.name, is_private: false }, signal);
          // Already created (by this incident's earlier, unanswered attempt, or by hand): post there by name.
          if (!answer.ok && answer.error === 'name_taken') return {};
          failUnlessOk(answer, 'conversations.create');
          return { slackChannel: typeof answer.channel === 'object' ? answer.channel.id : null };
        }
        const answer = await webApi('chat.postMessage', { ...message.body, channel: channelFor(message, incident) }, signal);
        failUnlessOk(answer, 'chat.postMessage');
        return {};
      }
      if (message.action === 'create-channel') return {};
      if (!settings.webhookUrl) throw new DeliveryError('Slack is not configured any more (notify.slack)', false);
      const { channel: _channel, ...payload } = message.body;
      await delivering(() =>
        http.request({
          service,
          target,
          method: 'POST',
          url: settings.webhookUrl as string,
          body: payload,
          accept: 'text',
          schema: z.literal('ok'),
          signal,
          hint: 'check notify.slack.webhookUrl (AEGIS_IR_SLACK_WEBHOOK_URL): Slack answers no_service for a removed webhook',
        }),
      );
      return {};
    },
  };
}

/** The incident's channel by id once created, else by name; other channels (`#security-ops`) by name. */
function channelFor(message: OutboxMessage, incident: Incident): string {
  const channel = String(message.body.channel ?? 'incident');
  if (channel === 'incident') return incident.refs.slackChannel ?? incident.channel.slice(1);
  return channel.replace(/^#/, '');
}

function failUnlessOk(answer: z.infer<typeof webApiAnswer>, method: string): void {
  if (answer.ok) return;
  const code = answer.error ?? 'unknown_error';
  throw new DeliveryError(`Slack ${method} answered ok=false: ${code}`, TRANSIENT.has(code));
}
