import * as z from 'zod';
import type { HttpPort } from './port.js';

/**
 * The public Statuspage v2 JSON API (`/api/v2/summary.json`), as Atlassian Statuspage serves it
 * (status.claude.com) and as incident.io serves its Statuspage-compatible copy (status.openai.com),
 * whose incidents may list no components and whose ids are ULIDs. Only what decides the verdict is
 * required; every other field may be absent. The enums are closed: a value outside them is a page
 * this reader does not understand, so the answer is refused (unknown), never read as operational.
 */
export const INDICATORS = ['none', 'minor', 'major', 'critical', 'maintenance'] as const;
export const COMPONENT_STATUSES = ['operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance'] as const;
export type Indicator = (typeof INDICATORS)[number];
export type ComponentStatus = (typeof COMPONENT_STATUSES)[number];

/**
 * `summary.json`, validated. Built on first use: most commands load this module (triage's status-page checks
 * read a page only when the app reports its AI provider unhealthy) without reading a page, and zod schemas
 * are costly to build at every start.
 */
export const summarySchema = z.lazy(() => {
  const text = z.string().nullish();
  const affected = z.object({ name: z.string(), new_status: z.enum(COMPONENT_STATUSES).nullish() });
  const update = z.object({
    status: z.string(),
    body: text,
    created_at: text,
    display_at: text,
    affected_components: z.array(affected).nullish(),
  });
  const listedComponent = z.object({ name: z.string(), status: z.enum(COMPONENT_STATUSES).nullish() });
  const incident = z.object({
    id: z.string(),
    name: z.string(),
    status: z.enum(['investigating', 'identified', 'monitoring', 'resolved', 'postmortem']),
    impact: z.enum(['none', 'minor', 'major', 'critical', 'maintenance']),
    created_at: text,
    started_at: text,
    updated_at: text,
    shortlink: text,
    incident_updates: z.array(update).nullish(),
    components: z.array(listedComponent).nullish(),
  });
  const maintenance = incident.extend({
    status: z.enum(['scheduled', 'in_progress', 'verifying', 'completed']),
    scheduled_for: text,
    scheduled_until: text,
  });
  return z.object({
    page: z.object({ id: z.string(), name: z.string(), url: text, updated_at: text }),
    status: z.object({ indicator: z.enum(INDICATORS), description: z.string() }),
    components: z.array(z.object({ id: z.string(), name: z.string(), status: z.enum(COMPONENT_STATUSES), group: z.boolean().nullish() })),
    incidents: z.array(incident).nullish(),
    scheduled_maintenances: z.array(maintenance).nullish(),
  });
});
export type StatusSummary = z.infer<typeof summarySchema>;

/** One component as evidence carries it. */
export interface ComponentState {
  name: string;
  status: ComponentStatus;
}

/** An unresolved incident or an active maintenance, with its latest update. */
export interface PageEvent {
  name: string;
  impact: string;
  status: string;
  startedAt: string | null;
  /** Components the incident names (by name: ids differ between hosts); often none on incident.io. */
  components: string[];
  latestUpdate: { status: string; body: string; at: string | null } | null;
  link: string | null;
}

/** A provider's status page, read: what `diagnose ai-provider` evaluates. */
export interface ProviderPage {
  provider: string;
  /** The page's root URL, as it may be shown. */
  url: string;
  pageName: string;
  indicator: Indicator;
  description: string;
  updatedAt: string | null;
  /** The components the app's API calls depend on, matched by name. */
  apiComponents: ComponentState[];
  /** Every component (not group) that is not operational. */
  nonOperational: ComponentState[];
  incidents: PageEvent[];
  /** Maintenances in progress or being verified. */
  maintenances: PageEvent[];
}

/** What to read: a provider's name, its page's root URL and the names of its API components. */
export interface StatusPageSource {
  name: string;
  statusPage: string;
  components?: string[];
}

/** The API components of the providers SPEC names by default, by the names their pages give them. */
const KNOWN_API_COMPONENTS: Record<string, string[]> = {
  anthropic: ['Claude API'],
  openai: ['Chat Completions', 'Responses', 'Embeddings'],
};

/** The page's root, whether it was given as the root or as one of its API URLs. */
export function statusPageRoot(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/api\/v2(\/[\w.]*)?$/, '');
}

/**
 * Reads one provider's `summary.json` through the HTTP port. Every failure (unreachable, HTML, a
 * non-JSON answer, an unknown enum) is an `HttpError` with target `statuspage`: the check errors.
 */
export async function readStatusPage(http: HttpPort, source: StatusPageSource, signal?: AbortSignal): Promise<ProviderPage> {
  const root = statusPageRoot(source.statusPage);
  const response = await http.request({
    service: `${source.name}'s status page`,
    target: 'statuspage',
    url: `${root}/api/v2/summary.json`,
    schema: summarySchema,
    signal,
    hint: (failure) =>
      failure.kind === 'refused' || failure.kind === 'dns' || failure.kind === 'timeout' || failure.kind === 'tls'
        ? `check this machine's route to the internet, or point the provider at a reachable page: --status-page ${source.name}=URL`
        : `the page did not answer the Statuspage v2 API; check the URL in aiProvider.providers (or --status-page ${source.name}=URL): curl -sS ${root}/api/v2/summary.json`,
  });
  return summarise(source, root, response.data);
}

/** The evidence of one summary: pure, so fixtures of real payloads exercise it. */
export function summarise(source: StatusPageSource, root: string, summary: StatusSummary): ProviderPage {
  const wanted = source.components ?? KNOWN_API_COMPONENTS[source.name];
  const isApi = (name: string) =>
    wanted ? wanted.some((w) => name.toLowerCase().startsWith(w.toLowerCase())) : /\bAPIs?\b/.test(name);
  const components = summary.components.filter((c) => !c.group);
  return {
    provider: source.name,
    url: root,
    pageName: summary.page.name,
    indicator: summary.status.indicator,
    description: summary.status.description,
    updatedAt: summary.page.updated_at ?? null,
    apiComponents: components.filter((c) => isApi(c.name)).map(({ name, status }) => ({ name, status })),
    nonOperational: components.filter((c) => c.status !== 'operational').map(({ name, status }) => ({ name, status })),
    incidents: (summary.incidents ?? []).filter((i) => i.status !== 'resolved' && i.status !== 'postmortem').map(eventOf),
    maintenances: (summary.scheduled_maintenances ?? []).filter((m) => m.status === 'in_progress' || m.status === 'verifying').map(eventOf),
  };
}

type PageIncident = NonNullable<StatusSummary['incidents']>[number];
type PageMaintenance = NonNullable<StatusSummary['scheduled_maintenances']>[number];

function eventOf(event: PageIncident | PageMaintenance): PageEvent {
  const updates = [...(event.incident_updates ?? [])].sort((a, b) => timeOf(b) - timeOf(a));
  const latest = updates[0];
  const named = new Set([
    ...(event.components ?? []).map((c) => c.name),
    ...updates.flatMap((u) => (u.affected_components ?? []).map((c) => c.name)),
  ]);
  return {
    name: event.name,
    impact: event.impact,
    status: event.status,
    startedAt: event.started_at ?? ('scheduled_for' in event ? event.scheduled_for : null) ?? event.created_at ?? null,
    components: [...named],
    latestUpdate: latest ? { status: latest.status, body: latest.body ?? '', at: latest.display_at ?? latest.created_at ?? null } : null,
    link: event.shortlink ?? null,
  };
}

function timeOf(update: { display_at?: string | null; created_at?: string | null }): number {
  const at = Date.parse(update.display_at ?? update.created_at ?? '');
  return Number.isNaN(at) ? 0 : at;
}
