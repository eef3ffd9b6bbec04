import * as z from 'zod';
import { COMPONENT_STATUSES, INDICATORS } from '../../http/statuspage.js';
import { resolveTime } from '../kube-simulator/time.js';

const time = z.string().refine((t) => resolveTime(t, new Date(0)) !== undefined, {
  error: 'expected a time: "now", a negative offset such as "-5m", or an ISO-8601 timestamp',
});

const update = z.strictObject({ status: z.string(), body: z.string(), at: time });

const event = z.strictObject({
  name: z.string(),
  impact: z.enum(['none', 'minor', 'major', 'critical', 'maintenance']),
  status: z.string(),
  startedAt: time,
  /** Component names the incident lists; incident.io pages often list none. */
  components: z.array(z.string()).default([]),
  /** Newest first, as the pages list them. */
  updates: z.array(update).default([]),
  /** Maintenances: when the window ends. */
  until: time.optional(),
});

/** One provider's status page in a scenario. */
const page = z.strictObject({
  /** `atlassian` (status.claude.com) or `incident-io` (status.openai.com's Statuspage-compatible API): ids, fields and groups differ. */
  style: z.enum(['atlassian', 'incident-io']).default('atlassian'),
  name: z.string(),
  indicator: z.enum(INDICATORS),
  description: z.string(),
  components: z.array(z.strictObject({ name: z.string(), status: z.enum(COMPONENT_STATUSES), group: z.string().optional() })).min(1),
  incidents: z.array(event).default([]),
  maintenances: z.array(event).default([]),
  /** Answer an HTML page instead (a captive portal or a login wall in front of the page). */
  html: z.boolean().default(false),
});

/**
 * The `statusPages:` section of a scenario: each AI provider's public status page, served by the
 * sandbox's Statuspage simulator at `/<provider>/api/v2/summary.json`.
 */
export const statusPagesSectionSchema = z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), page);

/**
 * The `aiApp:` section: how the simulated app uses its AI providers, so that a change of its settings
 * (read from its ConfigMap when its pods restart) ends the incident in its health metric and its logs.
 */
export const aiAppSectionSchema = z.strictObject({
  /** The provider the app calls first. */
  primary: z.string(),
  /** Providers answering 429 to this app until cached responses are on. */
  rateLimited: z.array(z.string()).default([]),
  /** What the app's container logs once its AI calls work again (repeated every 20s from its start). */
  recoveredLines: z.array(z.string()).min(1),
});

export type StatusPagesSection = z.infer<typeof statusPagesSectionSchema>;
export type StatusPageSection = StatusPagesSection[string];
export type AiAppSection = z.infer<typeof aiAppSectionSchema>;
