import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StatusSummary } from '../../http/statuspage.js';
import { resolveTime } from '../kube-simulator/time.js';
import type { StatusPageSection, StatusPagesSection } from './schema.js';

export interface StatusPageSimulator {
  url: string;
  /** `anthropic=<url>/anthropic,openai=<url>/openai`: the value of `AEGIS_IR_STATUS_PAGES` pointing at it. */
  pages: string;
  /** Each provider's page as served now (what `summary.json` holds). */
  summary(provider: string): StatusSummary | null;
  close(): Promise<void>;
}

/**
 * The sandbox's Statuspage simulator: `/<provider>/api/v2/summary.json` and `status.json` for each
 * provider of the scenario, in the shape its host serves — Atlassian Statuspage's (12-character ids,
 * every field) or incident.io's compatible API (ULID ids, component groups, incidents that may list no
 * components). A page marked `html` answers a sign-in page instead; `/html/...` always does, to try
 * a status page that is not one. Anything else is a 404, as the real hosts answer.
 */
export async function startStatusPageSimulator(section: StatusPagesSection, start: Date): Promise<StatusPageSimulator> {
  const summaries = new Map(Object.entries(section).map(([provider, page]) => [provider, summaryOf(provider, page, start)]));
  const server = createServer((request, response) => {
    const [, provider = '', ...rest] = new URL(request.url ?? '/', 'http://x').pathname.split('/');
    const page = section[provider];
    if (provider === 'html' || page?.html) {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in to continue</body></html>');
      return;
    }
    const summary = summaries.get(provider);
    const path = `/${rest.join('/')}`;
    if (!summary || (path !== '/api/v2/summary.json' && path !== '/api/v2/status.json')) {
      response.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'Not found' }));
      return;
    }
    const body = path.endsWith('status.json') ? { page: summary.page, status: summary.status } : summary;
    response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'max-age=0, private, must-revalidate' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    pages: Object.keys(section).map((p) => `${p}=${url}/${p}`).join(','),
    summary: (provider) => summaries.get(provider) ?? null,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A stable id for `seed` in the page's style: Atlassian's 12 base-36 characters, incident.io's 26-character ULIDs. */
function idOf(style: StatusPageSection['style'], seed: string): string {
  const hash = createHash('sha256').update(seed).digest();
  if (style === 'incident-io') {
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    return `01J${[...hash.subarray(0, 23)].map((b) => alphabet[b % 32]).join('')}`;
  }
  return [...hash.subarray(0, 12)].map((b) => (b % 36).toString(36)).join('');
}

function summaryOf(provider: string, page: StatusPageSection, start: Date): StatusSummary {
  const at = (t: string) => (resolveTime(t, start) ?? start).toISOString();
  const id = (seed: string) => idOf(page.style, `${provider}/${seed}`);
  const pageId = id('page');
  const atlassian = page.style === 'atlassian';
  const groups = [...new Set(page.components.map((c) => c.group).filter((g): g is string => g !== undefined))];
  const components = [
    ...groups.map((name, i) => ({ id: id(`group/${name}`), name, status: worst(page.components.filter((c) => c.group === name).map((c) => c.status)), group: true, position: i + 1 })),
    ...page.components.map((c, i) => ({
      id: id(`component/${c.name}`),
      name: c.name,
      status: c.status,
      position: groups.length + i + 1,
      group_id: c.group ? id(`group/${c.group}`) : null,
      ...(atlassian ? { page_id: pageId, group: false, showcase: true, only_show_if_degraded: false, description: null, created_at: '2023-07-11T17:26:53.175Z', updated_at: start.toISOString(), start_date: '2023-07-11' } : { description: null }),
    })),
  ];
  const componentByName = new Map(components.map((c) => [c.name, c]));
  const eventOf = (e: StatusPageSection['incidents'][number], kind: string) => {
    const eventId = id(`${kind}/${e.name}`);
    const listed = e.components.map((name) => componentByName.get(name)).filter((c) => c !== undefined);
    return {
      id: eventId,
      name: e.name,
      status: e.status,
      impact: e.impact,
      created_at: at(e.startedAt),
      updated_at: e.updates[0] ? at(e.updates[0].at) : at(e.startedAt),
      started_at: at(e.startedAt),
      resolved_at: null,
      shortlink: atlassian ? `https://stspg.io/${eventId.slice(0, 12)}` : `https://status.example/incidents/${eventId}`,
      ...(atlassian ? { monitoring_at: null, page_id: pageId } : {}),
      ...(e.until ? { scheduled_for: at(e.startedAt), scheduled_until: at(e.until) } : {}),
      incident_updates: e.updates.map((u, i) => ({
        id: id(`${kind}/${e.name}/update/${i}`),
        status: u.status,
        body: u.body,
        created_at: at(u.at),
        updated_at: at(u.at),
        ...(atlassian
          ? { incident_id: eventId, display_at: at(u.at), affected_components: listed.map((c) => ({ code: c.id, name: c.name, old_status: 'operational', new_status: c.status })), deliver_notifications: true, custom_tweet: null, tweet_id: null }
          : {}),
      })),
      components: listed,
    };
  };
  return {
    page: { id: pageId, name: page.name, url: `https://status.${provider}.example`, updated_at: start.toISOString(), ...(atlassian ? { time_zone: 'Etc/UTC' } : {}) },
    components,
    incidents: page.incidents.map((e) => eventOf(e, 'incident')),
    scheduled_maintenances: page.maintenances.map((e) => eventOf(e, 'maintenance')),
    status: { indicator: page.indicator, description: page.description },
  } as StatusSummary;
}

const ORDER = ['operational', 'under_maintenance', 'degraded_performance', 'partial_outage', 'major_outage'] as const;

function worst(statuses: ReadonlyArray<(typeof ORDER)[number]>): (typeof ORDER)[number] {
  return statuses.reduce<(typeof ORDER)[number]>((w, s) => (ORDER.indexOf(s) > ORDER.indexOf(w) ? s : w), 'operational');
}
