import { randomBytes } from 'node:crypto';
import { json, startHttpSimulator, type Answer, type HttpSimulator } from '../http-simulator.js';

/** A page incident as Statuspage keeps it. */
export interface PageIncident {
  id: string;
  name: string;
  status: string;
  updates: string[];
  components: Record<string, string>;
}

export interface StatuspageManageSimulator extends HttpSimulator {
  /** `notify.statuspage.apiUrl`. */
  apiUrl: string;
  pageId: string;
  apiKey: string;
  incidents: Map<string, PageIncident>;
}

const STATUSES = ['investigating', 'identified', 'monitoring', 'resolved', 'scheduled', 'in_progress', 'verifying', 'completed'];

/**
 * Statuspage's manage API for page incidents: `POST /v1/pages/{page_id}/incidents` (201) and `PATCH
 * /v1/pages/{page_id}/incidents/{id}` (200), authorised by `Authorization: OAuth <key>` (401 `{"error":
 * "Could not authenticate"}` otherwise); unknown page or incident 404 `{"error":"Not found"}`; 422 for a
 * bad status. Its rate limit (420 or 429) is scripted with `fail`.
 */
export async function startStatuspageManageSimulator(print?: (line: string) => void): Promise<StatuspageManageSimulator> {
  const pageId = randomBytes(6).toString('hex');
  const apiKey = randomBytes(16).toString('hex');
  const incidents = new Map<string, PageIncident>();
  const view = (i: PageIncident) => ({
    id: i.id,
    name: i.name,
    status: i.status,
    page_id: pageId,
    incident_updates: i.updates.map((body, n) => ({ id: `${i.id}-u${n + 1}`, body })),
    components: Object.entries(i.components).map(([id, status]) => ({ id, status })),
  });
  const handler = ({ method, path, headers, body }: { method: string; path: string; headers: Record<string, string>; body: unknown }): Answer => {
    if (headers.authorization !== `OAuth ${apiKey}`) return json(401, { error: 'Could not authenticate' });
    const match = /^\/v1\/pages\/([^/]+)\/incidents(?:\/([^/]+))?$/.exec(path);
    if (!match || match[1] !== pageId) return json(404, { error: 'Not found' });
    const fields = ((body as { incident?: Record<string, unknown> } | undefined)?.incident ?? {}) as Record<string, unknown>;
    if (fields.status !== undefined && !STATUSES.includes(String(fields.status))) return json(422, { error: `Status is not included in the list` });
    const components = (fields.components ?? {}) as Record<string, string>;
    if (method === 'POST' && !match[2]) {
      if (typeof fields.name !== 'string' || !fields.name) return json(422, { error: "Name can't be blank" });
      const incident: PageIncident = { id: randomBytes(6).toString('hex'), name: fields.name, status: String(fields.status ?? 'investigating'), updates: [String(fields.body ?? '')], components: { ...components } };
      incidents.set(incident.id, incident);
      print?.(`statuspage created "${incident.name}" (${incident.status}): ${incident.updates[0]}`);
      return json(201, view(incident));
    }
    const incident = match[2] ? incidents.get(match[2]) : undefined;
    if (method !== 'PATCH' || !incident) return json(404, { error: 'Not found' });
    if (fields.status) incident.status = String(fields.status);
    if (fields.body) incident.updates.push(String(fields.body));
    Object.assign(incident.components, components);
    print?.(`statuspage ${incident.status} "${incident.name}": ${String(fields.body ?? '')}`);
    return json(200, view(incident));
  };
  const simulator = await startHttpSimulator(handler, (r) => {
    if (r.status >= 300 || r.status === 0) print?.(`statuspage ${r.method} ${r.path.replace(pageId, '{page}')}: answered ${r.status || 'connection reset'}`);
  });
  return { ...simulator, apiUrl: simulator.url, pageId, apiKey, incidents };
}
