import { GLOBAL_FLAG_KEYS, configFilePath, resolveConfig, type Config, type Overrides } from './config.js';
import { once, systemClock, type Context, type Logger, type Progress, type Prompter } from './context.js';
import { UsageError } from './errors.js';
import { colorEnabled, type IOStreams, type TextSink } from './io.js';
import { Redactor } from './redact.js';
import type { GlobalOptions, Runtime } from './runtime.js';
import { createDbPort } from '../db/client.js';
import { createHttpPort } from '../http/client.js';
import { resolveDbTarget, type DbTarget } from '../db/target.js';
import type { DbPort } from '../db/port.js';
import { operatorName } from './operator.js';
import { shellWord } from './shell.js';

/**
 * Builds a command's {@link Context} from the runtime and the parsed flags. Streams are wrapped so
 * that no secret reaches the terminal, whatever a command prints.
 */
export async function buildContext(
  runtime: Runtime,
  options: GlobalOptions,
  extraFlags: Overrides = {},
  /** A last say over the loaded configuration, for a command that must not reach some targets (the drill). */
  adjust: (config: Config) => Config = (config) => config,
): Promise<Context> {
  const flags: Overrides = { ...extraFlags };
  for (const [option, key] of Object.entries(GLOBAL_FLAG_KEYS)) {
    if (options[option] !== undefined) flags[key] = options[option];
  }
  // `--context` may be repeated (triage, one context per cluster); each context built here holds one.
  const contexts = [extraFlags.context ?? options.context ?? []].flat();
  if (contexts.length > 1) {
    throw new UsageError(
      `--context was given ${contexts.length} times (${contexts.join(', ')}); this command works on one cluster`,
      'give one --context, or triage several at once: aegis-ir triage --context A --context B',
    );
  }
  if (contexts.length) flags.context = contexts[0];
  // A context chosen here for one of several clusters is added to its next commands with the cluster's report.
  const rerunFlags = rerunFlagsOf({ ...options, context: extraFlags.context === undefined ? contexts[0] : undefined });
  const redactor = runtime.redactor ?? new Redactor();
  redactor.add(runtime.env.PGPASSWORD, runtime.env.AEGIS_IR_PROMETHEUS_TOKEN);
  const sources = { file: options.config, env: runtime.env, flags };
  // The YAML parser loads only for a run with a config file to read.
  const config = adjust(configFilePath(sources) === null ? resolveConfig(sources, null) : (await import('./config-file.js')).loadConfig(sources));
  redactor.add(config.prometheus.token, ...notifySecrets(config));
  // Machine-read output (JSON, YAML, JUnit, Markdown) gets neither colour nor a spinner.
  const machine = config.output !== 'text';
  const io: IOStreams = {
    stdout: redacting(runtime.stdout, redactor),
    stderr: redacting(runtime.stderr, redactor),
    stdinIsTTY: runtime.stdinIsTTY,
    stdoutIsTTY: runtime.stdoutIsTTY,
    stderrIsTTY: runtime.stderrIsTTY,
    color: colorEnabled({ flag: options.color, env: runtime.env, isTTY: runtime.stdoutIsTTY && !machine }),
    width: runtime.stdoutIsTTY && runtime.stdoutColumns ? runtime.stdoutColumns : 80,
  };
  const stderrColor = colorEnabled({ flag: options.color, env: runtime.env, isTTY: runtime.stderrIsTTY });
  const logger = makeLogger(io.stderr, Boolean(options.verbose));
  /** A session factory for `target` (null when none is configured); its password is hidden from then on. */
  const dbPort = (target: DbTarget | null, pooler: boolean) => {
    redactor.add(target?.password);
    return target
      ? createDbPort(target, {
          connectTimeoutMs: config.database.connectTimeout,
          statementTimeoutMs: config.database.statementTimeout,
          pooler,
          applicationName: `aegis-ir/${operatorName(runtime.env)}`,
        })
      : null;
  };
  // One database port per run, so what it learnt of the server (no TLS) serves the run's later connections.
  let db: DbPort | null | undefined;
  const clock = runtime.clock ?? systemClock;
  const connect = runtime.connectKube ?? (async (target, env) => (await import('../kube/client.js')).connectKube(target, env));
  return {
    config,
    env: runtime.env,
    io,
    clock,
    prompter: runtime.prompter ?? noTerminalPrompter,
    logger,
    signal: runtime.signal,
    rerunFlags,
    progress: (text) => (!machine && spinnerFits(runtime) ? spinner(text, runtime.stderr, stderrColor) : silentProgress),
    kube: once(() =>
      connect({ kubeconfig: config.kubeconfig, context: config.context, namespace: config.namespace }, runtime.env),
    ),
    redact: (text) => redactor.redact(text),
    db: () => (db === undefined ? (db = dbPort(resolveDbTarget(config, runtime.env), false)) : db),
    pgbouncer: () => {
      const url = config.database.pgbouncerUrl;
      if (!url) return null;
      // The URL and the password file only: PGHOST, PGPASSWORD and the like describe the database, not the pooler.
      const target = resolveDbTarget(
        { ...config, database: { ...config.database, url } },
        { PGPASSFILE: runtime.env.PGPASSFILE, HOME: runtime.env.HOME },
      );
      return dbPort(target, true);
    },
    prometheus: once(async () => {
      const { url, token, requestTimeout } = config.prometheus;
      if (!url) {
        throw new UsageError('no Prometheus configured', 'pass --prometheus-url URL, set PROMETHEUS_URL, or set prometheus.url in the config');
      }
      const { connectPrometheus } = await import('../prometheus/client.js');
      return connectPrometheus({ url, token, requestTimeoutMs: requestTimeout });
    }),
    http: createHttpPort({ signal: runtime.signal, timeoutMs: config.checkTimeout, clock }),
  };
}

/** The credentials of the outbound services: a webhook URL's path is one, as are tokens and keys. */
function notifySecrets(config: Config): Array<string | undefined> {
  const { slack, pagerduty, statuspage } = config.notify;
  const webhookPath = slack.webhookUrl ? new URL(slack.webhookUrl).pathname : undefined;
  return [slack.webhookUrl, webhookPath, slack.token, pagerduty.routingKey, statuspage.apiKey];
}

/** The target-selecting flags of a run, in the spelling the help gives them. */
const RERUN_FLAGS: Record<string, string> = {
  kubeconfig: '--kubeconfig',
  context: '--context',
  namespace: '-n',
  selector: '-l',
  deployment: '--deployment',
  container: '--container',
  config: '--config',
  databaseUrl: '--database-url',
  prometheusUrl: '--prometheus-url',
};

function rerunFlagsOf(options: GlobalOptions): string[] {
  return Object.entries(RERUN_FLAGS).flatMap(([option, flag]) => {
    const value = options[option];
    return typeof value === 'string' ? [flag, shellWord(value)] : [];
  });
}

function redacting(sink: TextSink, redactor: Redactor): TextSink {
  return { write: (text: string) => sink.write(redactor.redact(text)) };
}

function makeLogger(stderr: TextSink, verbose: boolean): Logger {
  return {
    debug: (message) => {
      if (verbose) stderr.write(`debug: ${message}\n`);
    },
    warn: (message) => {
      stderr.write(`warning: ${message}\n`);
    },
  };
}

const noTerminalPrompter: Prompter = {
  confirm: () => Promise.reject(new UsageError('confirmation needs a terminal', 'pass --yes to confirm non-interactively')),
  input: () => Promise.reject(new UsageError('confirmation needs a terminal', 'pass --yes to confirm non-interactively')),
};

const silentProgress: Progress = { update: () => undefined, stop: () => undefined };

/**
 * Whether a spinner may be drawn on stderr: a terminal that says how wide it is and can move the cursor. A
 * 0-column terminal (`script`, some CI runners, cron) or `TERM=dumb` would get an endless stream of escape codes.
 */
export function spinnerFits(runtime: Pick<Runtime, 'stderrIsTTY' | 'stderrColumns' | 'env'>): boolean {
  return runtime.stderrIsTTY && (runtime.stderrColumns ?? 0) > 0 && runtime.env.TERM !== 'dumb';
}

/**
 * An ora spinner on stderr, loaded on demand so commands that never spin never pay for it. It never
 * touches stdin (ora would put it in raw mode, where Ctrl-C is a keystroke instead of SIGINT).
 */
function spinner(text: string, stream: TextSink, color: boolean): Progress {
  let current = text;
  let stopped = false;
  let instance: { text: string; stop(): unknown } | undefined;
  void import('ora').then(({ default: ora }) => {
    if (stopped) return;
    instance = ora({
      text: current,
      stream: stream as NodeJS.WritableStream,
      color: color ? 'cyan' : false,
      isEnabled: true,
      discardStdin: false,
    }).start();
  });
  return {
    update: (next) => {
      current = next;
      if (instance) instance.text = next;
    },
    stop: () => {
      stopped = true;
      instance?.stop();
    },
  };
}
