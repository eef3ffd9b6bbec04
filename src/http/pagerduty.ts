import * as z from 'zod';
import type { Config } from '../core/config.js';
import type { Sender } from '../incident/outbox.js';
import type { OutboxMessage } from '../incident/record.js';
import { delivering } from './delivery.js';
import type { HttpPort } from './port.js';

/** The Events API's 202: `{"status":"success","message":"Event processed","dedup_key":…}`. */
const accepted = z.looseObject({ status: z.string(), message: z.string().optional(), dedup_key: z.string().optional() });

/**
 * PagerDuty Events API v2: `trigger`, `acknowledge` and `resolve` on `/v2/enqueue` with the incident
 * id as `dedup_key` (so a re-send is the same alert, never a second page), and change events on
 * `/v2/change/enqueue`. 202 is success; 400 is final; 429 and 5xx are retried by the outbox. The
 * routing key is added here, at the moment of sending: it is never written to the record.
 */
export function pagerdutySender(http: HttpPort, settings: Config['notify']['pagerduty']): Sender {
  return {
    async send(message: OutboxMessage, _incident, signal: AbortSignal) {
      const path = message.action === 'change' ? '/v2/change/enqueue' : '/v2/enqueue';
      await delivering(() =>
        http.request({
          service: 'PagerDuty',
          target: 'pagerduty',
          method: 'POST',
          url: `${settings.eventsUrl.replace(/\/$/, '')}${path}`,
          body: { routing_key: settings.routingKey, ...message.body },
          schema: accepted,
          signal,
          hint: 'check notify.pagerduty.routingKey (AEGIS_IR_PAGERDUTY_ROUTING_KEY): an Events API v2 integration key',
        }),
      );
      return {};
    },
  };
}
