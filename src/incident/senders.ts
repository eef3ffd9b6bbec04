import type { Context } from '../core/context.js';
import { pagerdutySender } from '../http/pagerduty.js';
import { slackSender } from '../http/slack.js';
import { statuspageSender } from '../http/statuspage-incidents.js';
import { configuredServices } from './messages.js';
import type { Senders } from './outbox.js';

/** The outbound services this run is configured for, over the run's HTTP port. */
export function outboundSenders(ctx: Context): Senders {
  const services = configuredServices(ctx.config);
  const { notify } = ctx.config;
  return {
    ...(services.slack ? { slack: slackSender(ctx.http, notify.slack) } : {}),
    ...(services.pagerduty ? { pagerduty: pagerdutySender(ctx.http, notify.pagerduty) } : {}),
    ...(services.statuspage ? { statuspage: statuspageSender(ctx.http, notify.statuspage) } : {}),
  };
}
