import { randomBytes } from 'node:crypto';
import { json, startHttpSimulator, type Answer, type HttpSimulator, type Received } from '../http-simulator.js';

/** A message Slack accepted, in the channel it went to. */
export interface SlackMessage {
  channel: string;
  text: string;
  blocks: unknown[];
}

/** The Slack simulator: an incoming webhook and the Web API methods aegis-ir calls. */
export interface SlackSimulator extends HttpSimulator {
  /** The incoming webhook's URL; its path is the secret. */
  webhookUrl: string;
  /** The Web API base (`notify.slack.apiUrl`). */
  apiUrl: string;
  token: string;
  /** Every message accepted, in order. */
  messages: SlackMessage[];
  /** Channels created through `conversations.create`, by name. */
  channels: Map<string, string>;
}

/**
 * Slack as aegis-ir meets it. The incoming webhook (`POST /services/T…/B…/…`) answers plain-text
 * `ok`, `invalid_payload` (400) for a body without `text` or `blocks`, `no_service` (404) for a wrong
 * path. The Web API (`/api/conversations.create`, `/api/chat.postMessage`) answers HTTP 200 with
 * `{"ok":false,"error":…}` for its errors (`invalid_auth`, `name_taken`, `invalid_name`,
 * `channel_not_found`, `no_text`), as Slack does. Rate limits (429 with `Retry-After`) are scripted with `fail`.
 */
export async function startSlackSimulator(print?: (line: string) => void): Promise<SlackSimulator> {
  const token = `xoxb-${randomBytes(12).toString('hex')}`;
  const hookPath = `/services/T0AEGIS/B0AEGIS/${randomBytes(12).toString('hex')}`;
  const messages: SlackMessage[] = [];
  const channels = new Map<string, string>();
  const accept = (channel: string, body: Record<string, unknown>) => {
    const message = { channel, text: String(body.text ?? ''), blocks: Array.isArray(body.blocks) ? body.blocks : [] };
    messages.push(message);
    print?.(`slack ${channel}: ${message.text}`);
  };
  const handler = ({ method, path, headers, body }: { method: string; path: string; headers: Record<string, string>; body: unknown }): Answer => {
    if (method !== 'POST') return { status: 405, body: 'method_not_allowed' };
    const payload = body && typeof body === 'object' ? (body as Record<string, unknown>) : null;
    if (path.startsWith('/services/')) {
      if (path !== hookPath) return { status: 404, body: 'no_service' };
      if (!payload || (typeof payload.text !== 'string' && !Array.isArray(payload.blocks))) return { status: 400, body: 'invalid_payload' };
      accept('#webhook', payload);
      return { status: 200, body: 'ok', headers: { 'Content-Type': 'text/html' } };
    }
    if (headers.authorization !== `Bearer ${token}`) return json(200, { ok: false, error: headers.authorization ? 'invalid_auth' : 'not_authed' });
    if (!payload) return json(200, { ok: false, error: 'invalid_json' });
    if (path === '/api/conversations.create') {
      const name = String(payload.name ?? '');
      if (!/^[a-z0-9_-]{1,80}$/.test(name)) return json(200, { ok: false, error: 'invalid_name' });
      if (channels.has(name)) return json(200, { ok: false, error: 'name_taken' });
      const id = `C${randomBytes(5).toString('hex').toUpperCase()}`;
      channels.set(name, id);
      print?.(`slack: created #${name}`);
      return json(200, { ok: true, channel: { id, name, is_channel: true, created: Math.floor(Date.now() / 1000) } });
    }
    if (path === '/api/chat.postMessage') {
      const wanted = String(payload.channel ?? '');
      const name = [...channels].find(([n, id]) => id === wanted || n === wanted)?.[0] ?? (['customer-success', 'security-ops'].includes(wanted) ? wanted : null);
      if (!name) return json(200, { ok: false, error: 'channel_not_found' });
      if (typeof payload.text !== 'string' && !Array.isArray(payload.blocks)) return json(200, { ok: false, error: 'no_text' });
      accept(`#${name}`, payload);
      return json(200, { ok: true, channel: channels.get(name) ?? name, ts: `${(Date.now() / 1000).toFixed(6)}` });
    }
    return json(200, { ok: false, error: 'unknown_method' });
  };
  const simulator = await startHttpSimulator(handler, (r: Received) => {
    if (r.status !== 200) print?.(`slack ${r.path.startsWith('/services/') ? 'webhook' : r.path.slice(5)}: answered ${r.status || 'connection reset'}`);
  });
  return { ...simulator, webhookUrl: `${simulator.url}${hookPath}`, apiUrl: `${simulator.url}/api`, token, messages, channels };
}
