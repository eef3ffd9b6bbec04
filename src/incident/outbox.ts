import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError } from '../core/errors.js';
import { pendingMessages, type Incident, type OutboxMessage, type Service } from './record.js';
import type { IncidentStore } from './store.js';

/** Names of the services as people know them, for messages and exit-4 lines. */
export const SERVICE_NAMES: Record<Service, string> = { slack: 'Slack', pagerduty: 'PagerDuty', statuspage: 'Statuspage' };

/**
 * Why a send failed, as the outbox needs to know it: whether trying again can help (429, 420, 5xx,
 * a reset), after how long the service asked for (`Retry-After`), and whether the request may have
 * reached the service anyway (an answer that never came).
 */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly options: { retryAfterMs?: number; mayHaveArrived?: boolean } = {},
  ) {
    super(message);
  }
}

/** Sends one kind of message to one service; returns ids the service gave back (a channel, a page incident). */
export interface Sender {
  send(message: OutboxMessage, incident: Incident, signal: AbortSignal): Promise<Partial<Incident['refs']> | void>;
}
export type Senders = Partial<Record<Service, Sender>>;

/** What one delivery pass did. */
export interface DeliveryReport {
  delivered: OutboxMessage[];
  /** Messages still pending, with why; each names its service. */
  undelivered: Array<{ message: OutboxMessage; error: string }>;
}

export interface DeliveryOptions {
  /** Bound of the whole pass (`--timeout`), retries included. */
  deadline: number;
  /** This run, as claims name it. */
  by: string;
  now: () => Date;
  signal: AbortSignal;
  /** Jitter source, replaceable in tests. */
  random?: () => number;
}

/** First retry after about this long, doubling, capped. */
const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 8_000;

/**
 * Actions that may be repeated without a second effect: PagerDuty events carry the incident id as
 * `dedup_key`, and a status-page PATCH sets the same state again. A Slack post or a status-page
 * create has no such key, so it is never sent again once it may have arrived.
 */
function repeatable(message: OutboxMessage): boolean {
  return message.service === 'pagerduty' || (message.service === 'statuspage' && message.action !== 'create-incident');
}

/**
 * Sends the record's pending messages in order, one service at a time (a service's later messages
 * wait for its earlier ones: posts wait for the channel, a status-page update for its create).
 * Each message is claimed in the record before it is sent, so two runs never send it both, and is
 * marked delivered only once the service said 2xx. 429/420 wait as long as `Retry-After` says, 5xx
 * and resets back off with jitter, all within the deadline; what is still pending after it stays in
 * the record for the next `incident` command.
 */
export async function deliver(store: IncidentStore, id: string, senders: Senders, options: DeliveryOptions): Promise<DeliveryReport> {
  const report: DeliveryReport = { delivered: [], undelivered: [] };
  const stopped = new Set<Service>();
  for (;;) {
    const incident = await store.get(id);
    const next = incident && pendingMessages(incident).find((m) => !m.unconfirmed && !stopped.has(m.service));
    if (!incident || !next) break;
    stopped.add(next.service);
    const sender = senders[next.service];
    if (!sender) {
      report.undelivered.push({ message: next, error: `${SERVICE_NAMES[next.service]} is not configured any more` });
      continue;
    }
    const claimed = await claim(store, id, next.id, options);
    if (!claimed) continue;
    if (claimed.unconfirmed) {
      report.undelivered.push({ message: claimed, error: unconfirmedText(claimed) });
      continue;
    }
    try {
      const refs = await sendWithRetries(sender, claimed, incident, options);
      const stored = await store.update(id, (r) => {
        const m = r.outbox.find((x) => x.id === claimed.id);
        if (!m) return null;
        Object.assign(m, { deliveredAt: options.now().toISOString(), sending: null, lastError: null });
        r.refs = { ...r.refs, ...(refs ?? {}) };
        return r;
      });
      report.delivered.push(stored.outbox.find((m) => m.id === claimed.id) ?? claimed);
      stopped.delete(next.service);
    } catch (error) {
      const mayHaveArrived = error instanceof DeliveryError && Boolean(error.options.mayHaveArrived) && !repeatable(claimed);
      const text = error instanceof CancelledError ? 'cancelled before it was sent' : (error as Error).message;
      const stored = await store.update(id, (r) => {
        const m = r.outbox.find((x) => x.id === claimed.id);
        if (!m) return null;
        Object.assign(m, { sending: null, lastError: text, unconfirmed: m.unconfirmed || mayHaveArrived });
        return r;
      });
      const message = stored.outbox.find((m) => m.id === claimed.id) ?? claimed;
      report.undelivered.push({ message, error: message.unconfirmed ? unconfirmedText(message) : text });
      if (error instanceof CancelledError) throw error;
    }
  }
  return report;
}

/** Messages left pending in the record that no run will send by itself: they may have been posted. */
export function unconfirmedText(message: OutboxMessage): string {
  return `${SERVICE_NAMES[message.service]} ${message.action} may have been delivered (${message.lastError ?? 'the sender stopped before the answer'}); not sent again, so it is never posted twice — check the channel`;
}

/**
 * Takes the message for this run. Null when another run is sending it now. A claim that expired
 * without an outcome means its run died while sending: a repeatable message is taken over, any other
 * is marked unconfirmed (it may have arrived) instead of being sent twice.
 */
async function claim(store: IncidentStore, id: string, messageId: string, options: DeliveryOptions): Promise<OutboxMessage | null> {
  let mine: OutboxMessage | null = null;
  await store.update(id, (r) => {
    mine = null;
    const m = r.outbox.find((x) => x.id === messageId);
    const now = options.now();
    if (!m || m.deliveredAt || m.unconfirmed) return null;
    if (m.sending && Date.parse(m.sending.until) > now.getTime() && m.sending.by !== options.by) return null;
    if (m.sending && !repeatable(m)) {
      Object.assign(m, { sending: null, unconfirmed: true, lastError: m.lastError ?? 'the run sending it stopped before the answer' });
    } else {
      Object.assign(m, { sending: { by: options.by, until: new Date(Math.max(options.deadline, now.getTime()) + 60_000).toISOString() }, attempts: m.attempts + 1 });
    }
    mine = structuredClone(m);
    return r;
  });
  return mine;
}

async function sendWithRetries(sender: Sender, message: OutboxMessage, incident: Incident, options: DeliveryOptions): Promise<Partial<Incident['refs']> | void> {
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt += 1) {
    if (options.signal.aborted) throw new CancelledError();
    try {
      // The whole pass's deadline bounds each call too: an answer that never comes ends with it.
      const signal = AbortSignal.any([options.signal, AbortSignal.timeout(Math.max(1, options.deadline - Date.now()))]);
      return await sender.send(message, incident, signal);
    } catch (error) {
      if (options.signal.aborted) throw new CancelledError();
      if (!(error instanceof DeliveryError) || !error.retryable) throw error;
      if (error.options.mayHaveArrived && !repeatable(message)) throw error;
      // Full jitter: runs retrying the same outage do not come back in step.
      const wait = error.options.retryAfterMs ?? random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
      if (Date.now() + wait > options.deadline) {
        throw new DeliveryError(`${error.message}; still failing after ${attempt + 1} attempt(s) within --timeout`, true, error.options);
      }
      await sleep(wait, undefined, { signal: options.signal }).catch(() => {
        throw new CancelledError();
      });
    }
  }
}
