import * as z from 'zod';
import { parseDuration } from '../../core/duration.js';

/** `now`, or a negative offset such as `-5m`, as the rest of a scenario writes times. */
const offset = z.string().refine((t) => t === 'now' || (t.startsWith('-') && parseDuration(t.slice(1)) !== undefined), {
  error: 'expected "now" or a negative offset such as "-5m"',
});
const latency = z.string().refine((t) => parseDuration(t) !== undefined, { error: 'expected a duration such as "120ms" or "1.2s"' });

/** An endpoint's signals in one state: share of 5xx answers and p99 latency. */
const signals = z.strictObject({
  errorRatio: z.number().min(0).max(1),
  p99: latency,
});

/**
 * The condition that keeps an incident going, read from the simulated cluster on every query, so
 * that a `fix` that removes the cause ends it: a rollback away from `image`, a scale-out above
 * `replicasAtMost`.
 */
const cause = z.strictObject({
  image: z.string().optional(),
  replicasAtMost: z.number().int().min(0).optional(),
});

const route = z.strictObject({
  route: z.string().min(1),
  requestsPerSecond: z.number().positive(),
  baseline: signals,
  /** The incident on this endpoint: from `since`, for as long as `while` holds (always, without one). */
  incident: signals.extend({ since: offset, while: cause.optional() }).optional(),
});

/**
 * The `prometheus:` section of a sandbox scenario: the Cloud Aegis API's request metrics per
 * endpoint, component health and active findings, from which the simulator answers the runbook's
 * queries. Validated with the rest of the scenario.
 */
export const prometheusSectionSchema = z.strictObject({
  /** The deployment whose state `while` conditions read. */
  deployment: z.string().default('aegis-api'),
  /** The label that names endpoints on the request metrics. */
  routeLabel: z.string().default('route'),
  /** Instances reporting the health gauges. */
  instances: z.number().int().min(1).default(3),
  routes: z.array(route).min(1),
  /** `aegis_health_status` per component; 1 healthy, 0 not. */
  health: z.record(z.string(), z.union([z.literal(0), z.literal(1)])).default({}),
  findingsActive: z.number().int().nonnegative().default(0),
});

export type PrometheusSection = z.infer<typeof prometheusSectionSchema>;
export type RouteSection = PrometheusSection['routes'][number];
