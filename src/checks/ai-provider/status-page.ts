import type { Config } from '../../core/config.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import { oneLine } from '../../http/errors.js';
import { readStatusPage, type ComponentState, type PageEvent, type ProviderPage, type StatusPageSource } from '../../http/statuspage.js';
import { promQueries } from '../../prometheus/queries.js';
import { SkipCheck, defineCheck, type Check, type EvaluationEnv } from '../check.js';
import { configuredPrometheus } from '../prometheus/source.js';
import { AI_PROVIDER_FINDINGS as F } from './findings.js';

/** The `component` value of the app's health gauge for its AI provider. */
export const AI_COMPONENT = 'ai_provider';

/** What a provider's page says of the API the app calls. */
export type ProviderState = 'down' | 'degraded' | 'maintenance' | 'operational';

/** Evidence of one status-page check: the provider's page, read. */
export type StatusPageEvidence = ProviderPage;

/**
 * One provider's status page (the runbook's `curl …/api/v2/status.json`), read through the Statuspage
 * v2 `summary.json`: its indicator, the components the app's API calls depend on (matched by name),
 * every non-operational component, unresolved incidents with their latest update and maintenances in
 * progress. A page that cannot be read — HTML, a non-JSON answer, an unknown status value, nothing —
 * makes the check errored (target `statuspage`): the provider's state is unknown, never "operational".
 *
 * With `whenAiUnhealthy` (triage, `diagnose api-errors`) the page is read only when the app's own
 * `aegis_health_status{component="ai_provider"}` is below 1 somewhere, so a healthy app's triage never
 * depends on the internet; otherwise the check skips, saying why.
 */
export function statusPageCheck(source: StatusPageSource, options: { whenAiUnhealthy: boolean }): Check {
  return defineCheck<StatusPageEvidence>({
    id: `status-page-${source.name}`,
    title: `${source.name} status page`,
    target: 'statuspage',
    async collect(ctx) {
      if (options.whenAiUnhealthy) {
        // Gated on the app's own health gauge, so without a Prometheus the reason is the gate, not a missing Prometheus of its own.
        if (!ctx.config.prometheus.url) {
          throw new SkipCheck(
            `read only when the app reports its AI provider unhealthy, and no Prometheus is configured to tell (run aegis-ir diagnose ai-provider to read the status pages anyway; pass --prometheus-url or set PROMETHEUS_URL for the health gauge)`,
          );
        }
        const prometheus = await configuredPrometheus(ctx);
        const samples = await prometheus.query(promQueries(ctx.config.prometheus).health, ctx.clock.now(), ctx.signal);
        const label = ctx.config.prometheus.componentLabel;
        if (!samples.some((s) => s.labels[label] === AI_COMPONENT && s.value < 1)) {
          throw new SkipCheck(`the app reports its AI provider healthy (${ctx.config.prometheus.metrics.health}); run aegis-ir diagnose ai-provider to read the status pages anyway`);
        }
      }
      return readStatusPage(ctx.http, source, ctx.signal);
    },
    evaluate: evaluateStatusPage,
  });
}

/** A status-page check per configured provider (`aiProvider.providers`). */
export function statusPageChecks(config: Config, options: { whenAiUnhealthy: boolean }): Check[] {
  return config.aiProvider.providers.map((source) => statusPageCheck(source, options));
}

/**
 * The provider's state as the app feels it, decided on the page's indicator and component statuses
 * (never its free text): an API component in major outage, or a major/critical page whose incident
 * names an API component or none (incident.io's often name none), is down; a degraded or partially
 * failing API component, or such an incident of lesser impact, is degraded. When no component matches
 * the API names, the page's indicator stands for the API.
 */
export function providerState(page: ProviderPage): ProviderState {
  const api = page.apiComponents;
  const has = (...statuses: string[]) => api.some((c) => statuses.includes(c.status));
  const touchesApi = (event: PageEvent) => event.components.length === 0 || event.components.some((name) => api.some((c) => c.name === name));
  const incidents = page.incidents.filter(touchesApi);
  const majorPage = page.indicator === 'major' || page.indicator === 'critical';
  if (has('major_outage')) return 'down';
  if (majorPage && (api.length === 0 || incidents.some((i) => i.impact === 'major' || i.impact === 'critical'))) return 'down';
  if (has('partial_outage', 'degraded_performance')) return 'degraded';
  if (incidents.some((i) => i.impact !== 'none' && i.impact !== 'maintenance')) return 'degraded';
  if (api.length === 0 && page.indicator === 'minor') return 'degraded';
  if (has('under_maintenance') || page.maintenances.some(touchesApi) || (api.length === 0 && page.indicator === 'maintenance')) return 'maintenance';
  return 'operational';
}

export function evaluateStatusPage(page: StatusPageEvidence, _env: EvaluationEnv): Finding[] {
  const state = providerState(page);
  const check = `status-page-${page.provider}`;
  const evidence = {
    provider: page.provider,
    state,
    what: describePage(page),
    indicator: page.indicator,
    description: page.description,
    url: page.url,
    apiComponents: page.apiComponents,
    nonOperational: page.nonOperational,
    incidents: page.incidents,
    maintenances: page.maintenances,
  };
  const input = { check, resource: `statuspage/${page.provider}`, evidence, since: earliest(page.incidents) };
  switch (state) {
    case 'down':
      return [makeFinding(F.providerDown, { ...input, params: { provider: page.provider, what: describePage(page) }, next: ['aegis-ir diagnose ai-provider'] })];
    case 'degraded':
      return [makeFinding(F.providerDegraded, { ...input, params: { provider: page.provider, what: describePage(page) }, next: ['aegis-ir diagnose ai-provider'] })];
    case 'maintenance':
      return [makeFinding(F.providerMaintenance, { ...input, params: { provider: page.provider, what: describePage(page) }, since: earliest(page.maintenances) })];
    default:
      return [makeFinding(F.providerOperational, { ...input, params: { provider: page.provider, description: page.description } })];
  }
}

/** "Claude API (api.anthropic.com) major outage; incident "…" (major, investigating since …): latest update". */
export function describePage(page: ProviderPage): string {
  const troubled = page.apiComponents.filter((c) => c.status !== 'operational');
  const parts = [troubled.length ? troubled.map(componentText).join(', ') : `page indicator ${page.indicator} (${page.description})`];
  const [incident, ...more] = page.incidents;
  if (incident) parts.push(`${eventText('incident', incident)}${more.length ? ` and ${more.length} more` : ''}`);
  const [maintenance] = page.maintenances;
  if (maintenance && !incident) parts.push(eventText('maintenance', maintenance));
  return parts.join('; ');
}

function componentText(c: ComponentState): string {
  return `${c.name} ${c.status.replace(/_/g, ' ')}`;
}

function eventText(kind: string, event: PageEvent): string {
  const since = event.startedAt ? ` since ${event.startedAt}` : '';
  const update = event.latestUpdate?.body ? `: ${oneLine(event.latestUpdate.body, 120)}` : '';
  return `${kind} "${oneLine(event.name, 100)}" (${event.impact}, ${event.status}${since})${update}`;
}

function earliest(events: PageEvent[]): string | null {
  return events.map((e) => e.startedAt).filter((t): t is string => Boolean(t) && !Number.isNaN(Date.parse(t as string))).sort()[0] ?? null;
}
