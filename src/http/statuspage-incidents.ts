import * as z from 'zod';
import type { Config } from '../core/config.js';
import { DeliveryError, type Sender } from '../incident/outbox.js';
import type { Incident, OutboxMessage } from '../incident/record.js';
import { delivering } from './delivery.js';
import type { HttpPort } from './port.js';

const pageIncident = z.looseObject({ id: z.string().min(1) });

/**
 * Statuspage's manage API for a customer-facing incident: `POST /v1/pages/{page_id}/incidents` creates
 * it (keeping its id in the record), `PATCH …/incidents/{id}` updates and resolves it, with component
 * statuses. Authorised by `Authorization: OAuth <key>`; its rate limit answers 420 or 429.
 */
export function statuspageSender(http: HttpPort, settings: Config['notify']['statuspage']): Sender {
  const base = `${settings.apiUrl.replace(/\/$/, '')}/v1/pages/${encodeURIComponent(settings.pageId ?? '')}/incidents`;
  return {
    async send(message: OutboxMessage, incident: Incident, signal: AbortSignal) {
      const existing = incident.refs.statuspageIncident;
      if (message.action !== 'create-incident' && !existing) {
        throw new DeliveryError('Statuspage: no page incident to update (its creation was not confirmed)', false);
      }
      const { data } = await delivering(() =>
        http.request({
          service: 'Statuspage',
          target: 'statuspage',
          method: message.action === 'create-incident' ? 'POST' : 'PATCH',
          url: message.action === 'create-incident' ? base : `${base}/${encodeURIComponent(existing ?? '')}`,
          headers: { Authorization: `OAuth ${settings.apiKey}` },
          body: message.body,
          schema: pageIncident,
          signal,
          hint: 'check notify.statuspage.pageId and AEGIS_IR_STATUSPAGE_API_KEY',
        }),
      );
      return message.action === 'create-incident' ? { statuspageIncident: data.id } : {};
    },
  };
}
