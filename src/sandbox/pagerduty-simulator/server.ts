import { randomBytes } from 'node:crypto';
import { json, startHttpSimulator, type Answer, type HttpSimulator } from '../http-simulator.js';

/** An alert as PagerDuty keeps it, by `dedup_key`. */
export interface PagerDutyAlert {
  dedupKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  severity: string;
  summary: string;
  /** Every event accepted for it, in order. */
  events: string[];
}

export interface PagerDutySimulator extends HttpSimulator {
  /** `notify.pagerduty.eventsUrl`. */
  eventsUrl: string;
  routingKey: string;
  alerts: Map<string, PagerDutyAlert>;
  changes: Array<{ summary: string; timestamp: string }>;
}

const SEVERITIES = ['critical', 'error', 'warning', 'info'];

/**
 * PagerDuty's Events API v2: `POST /v2/enqueue` (trigger, acknowledge, resolve; one alert per
 * `dedup_key`, so a re-sent trigger is the same alert) and `POST /v2/change/enqueue`. 202
 * `{"status":"success","message":"Event processed","dedup_key":…}`; 400 `{"status":"invalid event",
 * "message":"Event object is invalid","errors":[…]}`; 429 and 5xx are scripted with `fail`.
 */
export async function startPagerDutySimulator(print?: (line: string) => void): Promise<PagerDutySimulator> {
  const routingKey = randomBytes(16).toString('hex');
  const alerts = new Map<string, PagerDutyAlert>();
  const changes: PagerDutySimulator['changes'] = [];
  const invalid = (...errors: string[]) => json(400, { status: 'invalid event', message: 'Event object is invalid', errors });
  const handler = ({ method, path, body }: { method: string; path: string; body: unknown }): Answer => {
    if (method !== 'POST') return json(405, { status: 'invalid request', message: 'Method not allowed' });
    const event = body && typeof body === 'object' ? (body as Record<string, unknown>) : null;
    if (!event) return invalid('Event must be a JSON object');
    if (typeof event.routing_key !== 'string' || event.routing_key.length !== 32) return invalid("Length of 'routing_key' is incorrect (should be 32 characters)");
    if (event.routing_key !== routingKey) return invalid('Invalid routing key');
    const payload = (event.payload ?? {}) as Record<string, unknown>;
    if (path === '/v2/change/enqueue') {
      if (typeof payload.summary !== 'string') return invalid("'payload.summary' is missing or blank");
      changes.push({ summary: payload.summary, timestamp: String(payload.timestamp ?? '') });
      print?.(`pagerduty change: ${payload.summary}`);
      return json(202, { status: 'success', message: 'Change event processed' });
    }
    if (path !== '/v2/enqueue') return json(404, { status: 'invalid request', message: 'Not found' });
    const action = String(event.event_action ?? '');
    if (!['trigger', 'acknowledge', 'resolve'].includes(action)) return invalid("'event_action' is missing or invalid");
    const key = typeof event.dedup_key === 'string' ? event.dedup_key : randomBytes(16).toString('hex');
    const alert = alerts.get(key);
    if (action === 'trigger') {
      if (typeof payload.summary !== 'string' || typeof payload.source !== 'string') return invalid("'payload.summary' and 'payload.source' are required");
      if (!SEVERITIES.includes(String(payload.severity))) return invalid("'payload.severity' must be one of critical, error, warning, info");
      if (alert && alert.status !== 'resolved') {
        alert.events.push('trigger');
        alert.severity = String(payload.severity);
      } else {
        alerts.set(key, { dedupKey: key, status: 'triggered', severity: String(payload.severity), summary: payload.summary, events: ['trigger'] });
      }
    } else if (alert) {
      alert.events.push(action);
      if (alert.status !== 'resolved') alert.status = action === 'resolve' ? 'resolved' : 'acknowledged';
    } else if (typeof event.dedup_key !== 'string') {
      return invalid("'dedup_key' is required for acknowledge and resolve");
    }
    print?.(`pagerduty ${action} ${key}${action === 'trigger' ? ` (${String(payload.severity)}): ${String(payload.summary)}` : ''}`);
    return json(202, { status: 'success', message: 'Event processed', dedup_key: key });
  };
  const simulator = await startHttpSimulator(handler, (r) => {
    if (r.status !== 202) print?.(`pagerduty ${r.path}: answered ${r.status || 'connection reset'}`);
  });
  return { ...simulator, eventsUrl: simulator.url, routingKey, alerts, changes };
}
