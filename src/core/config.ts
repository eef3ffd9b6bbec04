import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import * as z from 'zod';
import { parseDuration } from './duration.js';
import { ConfigError, UsageError, describeValue } from './errors.js';
import { MAX_TOP_ROWS } from '../pprof/limits.js';
import { redact } from './redact.js';
import { OUTPUT_FORMATS } from './io.js';
import { SEVERITIES, parseFailOn } from './severity.js';
import { isLabelName, isMetricName, parseMatchers } from '../prometheus/promql.js';
import { dbUrlProblem } from '../db/target.js';
import { CONFIG_DEFAULTS } from './config-defaults.js';

/**
 * A schema several keys share, built once, when a key that uses it is first validated (zod schemas are costly to
 * build, and most runs validate a few keys).
 */
function shared<T>(build: () => T): () => T {
  let schema: T | undefined;
  return () => (schema ??= build());
}
/** A non-empty string. */
const nonEmpty = shared(() => z.string().min(1));
/** A duration written `30s`, `10m`, `1h`, held in milliseconds; `minMs` is the smallest accepted. */
function durationOf(minMs: number, expected: string) {
  return z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms < minMs) {
      ctx.issues.push({ code: 'custom', message: expected, input: text });
      return z.NEVER;
    }
    return ms;
  });
}
const duration = shared(() => durationOf(0, 'a duration such as 30s, 10m or 1h'));
/** A deadline: zero would fail every check before it starts. */
const deadline = shared(() => durationOf(1, 'a duration above zero such as 30s, 10m or 1h'));
const ratio = shared(() => z.number().min(0).max(1));
/** A PostgreSQL URL that can be read; the reason it cannot never quotes it (it may hold a password). */
const databaseUrl = shared(() =>
  nonEmpty().superRefine((text, ctx) => {
    const problem = dbUrlProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: `a postgres://USER@HOST:5432/DATABASE URL, but ${problem.replace(/^the database URL('s)?/, (_, own: string | undefined) => (own ? 'its' : 'it'))}`, input: text });
  }),
);
const providerName = shared(() => z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a provider name in lower case, such as anthropic'));
const httpUrl = shared(() => z.url({ protocol: /^https?$/ }));
/** One AI provider: its name (as the app's config names it) and its public status page. */
const aiProvider = shared(() =>
  z.strictObject({
    name: providerName(),
    statusPage: httpUrl(),
    /** Names (prefixes) of the page's components the app's API calls depend on; defaults by provider. */
    components: z.array(nonEmpty()).min(1).optional(),
  }),
);
/**
 * The provider list, also as `anthropic=https://status.claude.com,openai=https://status.openai.com`:
 * how `--status-page` and `AEGIS_IR_STATUS_PAGES` give it.
 */
const aiProviders = shared(() =>
  z.preprocess((value, ctx) => {
    if (typeof value !== 'string') return value;
    const providers: unknown[] = [];
    for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
      const at = part.indexOf('=');
      const parsed = aiProvider().safeParse({ name: part.slice(0, at), statusPage: part.slice(at + 1) });
      if (at < 1 || !parsed.success) {
        ctx.issues.push({ code: 'custom', message: 'NAME=URL pairs such as anthropic=https://status.claude.com', input: value });
        return z.NEVER;
      }
      providers.push(parsed.data);
    }
    return providers;
  }, z.array(aiProvider())),
);
/** SPEC's default providers: Anthropic's current status host and OpenAI's (served by incident.io). */
const DEFAULT_AI_PROVIDERS = [
  { name: 'anthropic', statusPage: 'https://status.claude.com' },
  { name: 'openai', statusPage: 'https://status.openai.com' },
];
/** A PromQL metric name: a selector or function here would change what every query means. */
const metricName = shared(() => z.string().refine(isMetricName, { error: 'a PromQL metric name such as aegis_http_requests_total (scope series with prometheus.matchers)' }));
const labelName = shared(() => z.string().refine(isLabelName, { error: 'a PromQL label name such as status' }));
/** `namespace="aegis", job="aegis-api"`: label matchers added to every PromQL selector. */
const matchers = shared(() =>
  z.string().transform((text, ctx) => {
    const parsed = parseMatchers(text);
    if ('error' in parsed) {
      ctx.issues.push({ code: 'custom', message: `label matchers such as namespace="aegis", job="aegis-api" (${parsed.error})`, input: text });
      return z.NEVER;
    }
    return parsed;
  }),
);
const positiveInt = shared(() => z.number().int().positive());

/**
 * The configuration, key by key: each top-level key with the schema of its value. Every key has the default the
 * runbook and SPEC give, so an empty file (or none) is a valid configuration. Durations are written `30s`, `10m`,
 * `1h` and held in milliseconds. A key's schema is built only when a run is given that key to validate: zod
 * schemas are costly to build, and most runs are given a few keys (`-o json`, `KUBECONFIG`) and take every other
 * key's default from `CONFIG_DEFAULTS` (config-defaults.ts, generated from these schemas).
 */
const CONFIG_KEYS = {
  namespace: () => nonEmpty().default('aegis'),
  /** One kubeconfig file, or (from `KUBECONFIG`) several merged as kubectl merges them. */
  kubeconfig: () => z.union([nonEmpty(), z.array(nonEmpty()).min(1)]).optional(),
  context: () => nonEmpty().optional(),
  output: () => z.enum(OUTPUT_FORMATS).default('text'),
  failOn: () => z.preprocess((v) => (typeof v === 'string' ? (parseFailOn(v) ?? v) : v), z.enum([...SEVERITIES, 'never'])).default('SEV4'),
  timeout: () => deadline().prefault('30s'),
  checkTimeout: () => deadline().prefault('10s'),
  app: () => z
    .strictObject({
      deployment: nonEmpty().default('aegis-api'),
      selector: nonEmpty().default('app=aegis-api'),
      container: nonEmpty().optional(),
      healthCommand: z.array(nonEmpty()).min(1).default(['./aegis', 'health']),
      productionNamespaces: z.array(nonEmpty()).default(['aegis']),
    })
    .prefault({}),
  triage: () => z
    .strictObject({
      logTailLines: positiveInt().max(10_000).default(100),
      logConcurrency: positiveInt().max(32).default(4),
      /** Pods whose logs are read per run: failing and recently restarted first, then a spread of the others. */
      logPods: positiveInt().max(5000).default(50),
      logSamples: positiveInt().max(50).default(3),
      rolloutWindow: duration().prefault('1h'),
      restartWindow: duration().prefault('1h'),
    })
    .prefault({}),
  prometheus: () => z
    .strictObject({
      /** Base URL of the Prometheus HTTP API (`--prometheus-url`, `PROMETHEUS_URL`); unset skips the metric checks. */
      url: httpUrl().optional(),
      /** Bearer token sent with every query (`AEGIS_IR_PROMETHEUS_TOKEN`). */
      token: nonEmpty().optional(),
      /** Deadline of one HTTP request to Prometheus. */
      requestTimeout: duration().prefault('5s'),
      /** The `[5m]` of the runbook's `rate()` queries. */
      rateWindow: duration().prefault('5m'),
      /** How far back the error-rate, latency and findings trends are read, to date a rise. */
      trendWindow: duration().prefault('1h'),
      /** Resolution of those trends. */
      trendStep: duration().prefault('30s'),
      metrics: z
        .strictObject({
          requests: metricName().default('aegis_http_requests_total'),
          /** Histogram base name; `_bucket` is appended. */
          duration: metricName().default('aegis_http_request_duration_seconds'),
          findingsActive: metricName().default('aegis_findings_active'),
          health: metricName().default('aegis_health_status'),
        })
        .prefault({}),
      /** Label matchers scoping every selector, e.g. `namespace="aegis", job="aegis-api"`; none by default. */
      matchers: matchers().prefault(''),
      /** Label of the request metrics holding the HTTP status, and the values that count as errors. */
      statusLabel: labelName().default('status'),
      errorStatus: nonEmpty().default('5..'),
      /** Labels naming the endpoint, tried in order; the first the request metrics carry splits them per route. */
      routeLabels: z.array(labelName()).default(['route', 'handler', 'endpoint']),
      /** Label of the health metric naming the component. */
      componentLabel: labelName().default('component'),
    })
    .prefault({}),
  database: () => z
    .strictObject({
      /** Connection URL (`--database-url`, `DATABASE_URL`); libpq `PG*` variables fill what it leaves out. */
      url: databaseUrl().optional(),
      /** Deadline for opening a connection. */
      connectTimeout: duration().prefault('5s'),
      /** Server-side `statement_timeout` of every query the tool runs. */
      statementTimeout: duration().prefault('10s'),
      /** How long a session must have been idle (since `state_change`) to count as an old idle session. */
      idleOlderThan: duration().prefault('10m'),
      /** PgBouncer admin console URL (`AEGIS_IR_PGBOUNCER_URL`); when set, `SHOW POOLS` joins the diagnosis. */
      pgbouncerUrl: databaseUrl().optional(),
      /** Where the app's connection pool size lives, for `fix db-pool-size`. */
      pool: z
        .strictObject({
          configMap: nonEmpty().default('aegis-api-config'),
          /** A data key (`DB_POOL_SIZE`), or a YAML document in one and the dotted path inside it. */
          key: nonEmpty().default('config.yaml#database.pool_max'),
        })
        .prefault({}),
    })
    .prefault({}),
  aiProvider: () => z
    .strictObject({
      /**
       * The AI providers the app calls and their public Statuspage pages (root URL). `--status-page NAME=URL`
       * and `AEGIS_IR_STATUS_PAGES` (`NAME=URL,NAME=URL`) replace the list.
       */
      providers: aiProviders().default(DEFAULT_AI_PROVIDERS),
      /** The ConfigMap holding the app's AI settings. */
      configMap: nonEmpty().default('aegis-api-config'),
      /** Log lines read per pod for rate-limit, overload, timeout and billing errors. */
      logTailLines: positiveInt().max(10_000).default(500),
      /** Where each AI setting lives: a data key, or a YAML document in one and the dotted path inside it. */
      keys: z
        .strictObject({
          fallback: nonEmpty().default('config.yaml#ai.fallback_provider'),
          timeout: nonEmpty().default('config.yaml#ai.timeout'),
          cache: nonEmpty().default('config.yaml#ai.cache.enabled'),
          mode: nonEmpty().default('config.yaml#ai.mode'),
        })
        .prefault({}),
    })
    .prefault({}),
  memory: () => z
    .strictObject({
      /** How far back `diagnose memory` reads each container's working set to fit its growth. */
      trendWindow: duration().prefault('1h'),
      /** A container projected to reach its limit within this is SEV3. */
      leakHorizon: duration().prefault('1h'),
      /** Rows of the heap profile's top table. */
      topN: positiveInt().max(MAX_TOP_ROWS).default(10),
      /** The app's Go pprof endpoint, read through the API server's pod proxy. */
      pprof: z
        .strictObject({
          port: positiveInt().max(65535).default(6060),
          path: z.string().startsWith('/').default('/debug/pprof/heap'),
        })
        .prefault({}),
      /** Where the app's batch size lives, for `fix batch-size`. */
      batchSize: z
        .strictObject({
          configMap: nonEmpty().default('aegis-api-config'),
          key: nonEmpty().default('config.yaml#processing.batch_size'),
        })
        .prefault({}),
    })
    .prefault({}),
  remediation: () => z
    .strictObject({
      /** Safety cap of each remediation by id, overriding its built-in default (`--max` overrides both). */
      caps: z.record(nonEmpty(), positiveInt()).default({}),
    })
    .prefault({}),
  audit: () => z
    .strictObject({
      /** Append-only JSON-lines audit log (`AEGIS_IR_AUDIT_LOG`); default `$XDG_STATE_HOME/aegis-ir/audit.jsonl`. */
      path: nonEmpty().optional(),
    })
    .prefault({}),
  monitoring: () => z
    .strictObject({
      /** How long a condition must hold before an alert of `monitoring rules` fires (`--for`); 0 fires at once. */
      for: duration().prefault('5m'),
    })
    .prefault({}),
  incident: () => z
    .strictObject({
      /** Where incident records live: files under the state directory, or ConfigMaps in the namespace. */
      store: z.enum(['local', 'kubernetes']).default('local'),
      /** SEV1–2 need an update this often. */
      updateEvery: deadline().prefault('15m'),
    })
    .prefault({}),
  escalation: () => z
    .strictObject({
      /** How to reach each role of the matrix, over the runbook's Contact Information. */
      contacts: z.record(nonEmpty(), nonEmpty()).default({}),
    })
    .prefault({}),
  notify: () => z
    .strictObject({
      slack: z
        .strictObject({
          /** Incoming webhook (`AEGIS_IR_SLACK_WEBHOOK_URL`): posts to the one channel it belongs to. */
          webhookUrl: httpUrl().optional(),
          /** Bot token (`AEGIS_IR_SLACK_TOKEN`): creates the incident channel and posts there. */
          token: nonEmpty().optional(),
          apiUrl: httpUrl().default('https://slack.com/api'),
        })
        .prefault({}),
      pagerduty: z
        .strictObject({
          /** Events API v2 integration key (`AEGIS_IR_PAGERDUTY_ROUTING_KEY`). */
          routingKey: nonEmpty().optional(),
          eventsUrl: httpUrl().default('https://events.pagerduty.com'),
        })
        .prefault({}),
      statuspage: z
        .strictObject({
          pageId: nonEmpty().optional(),
          /** Manage API key (`AEGIS_IR_STATUSPAGE_API_KEY`). */
          apiKey: nonEmpty().optional(),
          apiUrl: httpUrl().default('https://api.statuspage.io'),
          /** Components a customer-facing incident marks, by id, and the status it gives them. */
          components: z.array(nonEmpty()).default([]),
          componentStatus: z.enum(['degraded_performance', 'partial_outage', 'major_outage']).default('major_outage'),
        })
        .prefault({}),
    })
    .prefault({}),
  thresholds: () => z
    .strictObject({
      errorRate: z
        .strictObject({ sev3: ratio().default(0.001), sev2: ratio().default(0.5), sev1: ratio().default(0.95) })
        .superRefine((t, ctx) => {
          // A SEV1 threshold below the SEV2 one would classify an outage as the lesser incident.
          if (t.sev3 >= t.sev2) ctx.addIssue({ code: 'custom', path: ['sev2'], input: t.sev2, message: `a ratio above sev3 (${t.sev3}) and below sev1 (${t.sev1}): errorRate thresholds are ordered sev3 < sev2 < sev1` });
          else if (t.sev2 >= t.sev1) ctx.addIssue({ code: 'custom', path: ['sev1'], input: t.sev1, message: `a ratio above sev2 (${t.sev2}): errorRate thresholds are ordered sev3 < sev2 < sev1` });
        })
        .prefault({}),
      latencyP99: duration().prefault('500ms'),
      connectionSaturation: ratio().default(0.8),
      crashLoopShare: ratio().default(0.5),
      memoryOfLimit: ratio().default(0.9),
      cpuOfLimit: ratio().default(0.9),
      /** AI provider rate-limit, overload and timeout lines per 500 log lines above which it is SEV3. */
      aiErrorLines: z.number().int().min(0).default(5),
    })
    .prefault({}),
};
type ConfigKey = keyof typeof CONFIG_KEYS;
type ConfigShape<K extends ConfigKey> = { [P in K]: ReturnType<(typeof CONFIG_KEYS)[P]> };

/** The schema of the configuration's `keys`, or of all of it. */
export function configSchema<K extends ConfigKey = ConfigKey>(keys: readonly K[] = Object.keys(CONFIG_KEYS) as K[]) {
  const shape: Partial<Record<ConfigKey, z.ZodType>> = {};
  for (const key of keys) shape[key] = CONFIG_KEYS[key]();
  return z.strictObject(shape as ConfigShape<K>);
}

/** The resolved configuration every command reads. */
export type Config = z.output<ReturnType<typeof configSchema<ConfigKey>>>;

/** The configuration of a run given no key: every key's default (a copy, the caller's to change). */
export function defaultConfig(): Config {
  return structuredClone(CONFIG_DEFAULTS);
}

/** Values given on the command line or in the environment, keyed by their dotted config path. */
export type Overrides = Record<string, unknown>;

export interface ConfigSources {
  /** `--config FILE`, if given. */
  file?: string;
  env: Record<string, string | undefined>;
  /** Flag values by dotted config key, e.g. `{ namespace: 'aegis', 'app.deployment': 'api' }`. */
  flags: Overrides;
}

/** Global flags (on every command), by commander's option name, and the config key each one sets. */
export const GLOBAL_FLAG_KEYS: Record<string, string> = {
  namespace: 'namespace',
  kubeconfig: 'kubeconfig',
  context: 'context',
  output: 'output',
  failOn: 'failOn',
  timeout: 'timeout',
  databaseUrl: 'database.url',
  idleOlderThan: 'database.idleOlderThan',
  prometheusUrl: 'prometheus.url',
  selector: 'app.selector',
  deployment: 'app.deployment',
  container: 'app.container',
  /** `monitoring rules --for`. */
  for: 'monitoring.for',
};

/** Environment variables that stand for a config key (flag > environment > file > default). */
const ENV_KEYS: Record<string, string> = {
  AEGIS_IR_NAMESPACE: 'namespace',
  KUBECONFIG: 'kubeconfig',
  AEGIS_IR_CONTEXT: 'context',
  AEGIS_IR_OUTPUT: 'output',
  AEGIS_IR_FAIL_ON: 'failOn',
  AEGIS_IR_TIMEOUT: 'timeout',
  DATABASE_URL: 'database.url',
  AEGIS_IR_PGBOUNCER_URL: 'database.pgbouncerUrl',
  AEGIS_IR_IDLE_OLDER_THAN: 'database.idleOlderThan',
  AEGIS_IR_AUDIT_LOG: 'audit.path',
  PROMETHEUS_URL: 'prometheus.url',
  AEGIS_IR_PROMETHEUS_TOKEN: 'prometheus.token',
  AEGIS_IR_SLACK_WEBHOOK_URL: 'notify.slack.webhookUrl',
  AEGIS_IR_SLACK_TOKEN: 'notify.slack.token',
  AEGIS_IR_PAGERDUTY_ROUTING_KEY: 'notify.pagerduty.routingKey',
  AEGIS_IR_STATUSPAGE_API_KEY: 'notify.statuspage.apiKey',
  AEGIS_IR_STATUS_PAGES: 'aiProvider.providers',
};

/** Where the config file is looked for when neither `--config` nor `AEGIS_IR_CONFIG` names one. */
export function defaultConfigPath(env: Record<string, string | undefined>): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'aegis-ir', 'config.yaml');
}

/** What a config file holds: its settings, and the line each key is on (read by config-file.ts). */
export interface ConfigFile {
  path: string;
  data: Record<string, unknown>;
  lineOf(key: string): number | undefined;
}

/** The config file a run reads: the one `--config` or `AEGIS_IR_CONFIG` names, else the default one when it exists. */
export function configFilePath(sources: ConfigSources): string | null {
  const explicit = sources.file ?? sources.env.AEGIS_IR_CONFIG;
  if (explicit !== undefined) return explicit;
  const path = defaultConfigPath(sources.env);
  return existsSync(path) ? path : null;
}

/**
 * The configuration from defaults, the config `file` (null: none), the environment and flags, in that order of
 * increasing precedence, validated. Every error names the key, its value, where it came from and what was
 * expected. `loadConfig` (config-file.ts) reads the file first.
 */
export function resolveConfig(sources: ConfigSources, file: ConfigFile | null): Config {
  const origin = new Map<string, string>();
  const data: Record<string, unknown> = file?.data ?? {};
  // A key's errors name its line, as a compiler would: `config.yaml:12`.
  if (file) for (const key of leafKeys(data)) origin.set(key, `${file.path}${file.lineOf(key) ? `:${file.lineOf(key)}` : ''}`);
  const overrides: Overrides = {};
  for (const [variable, key] of Object.entries(ENV_KEYS)) {
    const value = key === 'kubeconfig' ? kubeconfigList(sources.env[variable]) : sources.env[variable];
    if (value) {
      overrides[key] = value;
      origin.set(key, `environment variable ${variable}`);
    }
  }
  for (const [key, value] of Object.entries(sources.flags)) {
    if (value === undefined) continue;
    overrides[key] = value;
    origin.set(key, `flag ${flagFor(key)}`);
  }
  for (const [key, value] of Object.entries(overrides)) setPath(data, key, value);
  return validate(data, origin);
}

/** `KUBECONFIG`'s files in order, empty entries dropped as kubectl drops them; undefined when it names none. */
function kubeconfigList(value: string | undefined): string[] | undefined {
  const files = (value ?? '').split(delimiter).filter(Boolean);
  return files.length ? files : undefined;
}

function validate(data: Record<string, unknown>, origin: Map<string, string>): Config {
  // The schema of the keys given (a key it does not know is refused by it, as strict), the defaults for the rest.
  const given = Object.keys(data).filter((key): key is ConfigKey => Object.hasOwn(CONFIG_KEYS, key));
  const result = configSchema(given).safeParse(data, { reportInput: true, jitless: true });
  if (result.success) return { ...defaultConfig(), ...result.data };
  const [issue] = result.error.issues;
  if (!issue) throw new UsageError('configuration is not valid');
  const base = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = [base, issue.keys[0]].filter(Boolean).join('.');
    throw new UsageError(
      `${sourceOf(key, origin)}: unknown key "${key}"; expected one of: ${knownKeys(base).join(', ')}`,
      'README "Configuration" documents every key',
    );
  }
  const value = 'input' in issue ? issue.input : undefined;
  const where = sourceOf(base, origin);
  const flag = where.startsWith('flag ');
  throw new ConfigError(
    flag ? where.slice('flag '.length) : `${where}: ${base}`,
    shownValue(base, value),
    expectedFrom(issue),
    flag
      ? 'aegis-ir --help lists the flags and their values'
      : where.startsWith('environment variable ')
        ? `correct or unset ${where.slice('environment variable '.length)}`
        : `correct ${base} in ${where}; README "Configuration" documents every key`,
  );
}

function expectedFrom(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `a value of type ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => describeValue(v)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'array' ? `at least ${String(issue.minimum)} item(s)` : `at least ${String(issue.minimum)}`;
    case 'too_big':
      return `at most ${String(issue.maximum)}`;
    case 'invalid_format':
      return issue.format === 'url' ? 'an http:// or https:// URL such as http://prometheus:9090' : `a value in ${issue.format} format`;
    default:
      return issue.message;
  }
}

function sourceOf(key: string, origin: Map<string, string>): string {
  for (let probe = key; probe; probe = probe.slice(0, Math.max(0, probe.lastIndexOf('.')))) {
    const where = origin.get(probe);
    if (where) return where;
    if (!probe.includes('.')) break;
  }
  return 'configuration';
}

function knownKeys(path: string): string[] {
  const [top, ...rest] = path ? path.split('.') : [];
  if (top === undefined) return Object.keys(CONFIG_KEYS);
  if (!Object.hasOwn(CONFIG_KEYS, top)) return [];
  let schema: z.ZodType = CONFIG_KEYS[top as ConfigKey]();
  for (const part of rest) {
    const shape = objectShape(schema);
    const next = shape?.[part];
    if (!next) return [];
    schema = next;
  }
  return Object.keys(objectShape(schema) ?? {});
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let current: z.ZodType = schema;
  // Unwrap defaults/prefaults/optionals to reach the object underneath.
  for (let i = 0; i < 5; i += 1) {
    if (current instanceof z.ZodObject) return current.shape as Record<string, z.ZodType>;
    const inner = (current as unknown as { def?: { innerType?: z.ZodType } }).def?.innerType;
    if (!inner) return undefined;
    current = inner;
  }
  return undefined;
}

/** A value as an error may show it: URLs without their password, tokens and passwords not at all. */
function shownValue(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (/password|token|secret|apiKey|routingKey|webhook/i.test(key)) return '<redacted>';
  // Something that is not a URL may still hold USER:PASSWORD@ before its host.
  return /url/i.test(key) ? redact(value).replace(/^(?![a-z][a-z0-9+.-]*:\/\/)\S*@/i, '***@') : value;
}

/** The flag that set `key`, as the operator typed it: `--idle-older-than` for `database.idleOlderThan`. */
function flagFor(key: string): string {
  const option = Object.keys(GLOBAL_FLAG_KEYS).find((name) => GLOBAL_FLAG_KEYS[name] === key) ?? key;
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/\./g, '-')}`;
}

function leafKeys(value: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return child && typeof child === 'object' && !Array.isArray(child)
      ? [path, ...leafKeys(child as Record<string, unknown>, path)]
      : [path];
  });
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const child = node[part];
    if (!child || typeof child !== 'object' || Array.isArray(child)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}
