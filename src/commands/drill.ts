import { nextCommandsOf } from '../checks/next-steps.js';
import { Command } from 'commander';
import type { Report } from '../checks/verdict.js';
import type { Context } from '../core/context.js';
import { ExitCode, UsageError } from '../core/errors.js';
import { paint } from '../render/style.js';
import { SCHEMA_VERSION, reportDocument, reportText } from '../render/report.js';
import { DOCUMENT_FORMATS, print, requireFormat } from '../render/output.js';
import { listRow, wrap } from '../render/wrap.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { playCommunication, startCommunication, type CommunicationSandbox, type IncidentStep } from './drill-incident.js';
import { examples, optionsOf, type CommandHost } from './host.js';
import { triage } from './triage.js';

/** The scenario `aegis-ir drill` (and `npm start`) plays when none is named. */
export const DEFAULT_SCENARIO = 'crashloop-after-deploy';

/**
 * `drill [scenario]`: starts the sandbox with one runbook incident injected, runs the real `triage`
 * against it and shows how to point every other command at it. Exits 0 when triage reached the
 * verdict the scenario expects, 1 when it did not (that is a bug in aegis-ir or the scenario).
 */
export function drillCommand(host: CommandHost): Command {
  return new Command('drill')
    .argument('[scenario]', `a built-in scenario or a scenario YAML file (default: ${DEFAULT_SCENARIO})`)
    .option('--list', 'list the built-in scenarios')
    .option('--keep', 'leave the sandbox running until Ctrl-C, to try other commands against it')
    .option('--with-incident', 'then play the communication flow (incident open --from-triage … resolve) against simulated Slack, PagerDuty and Statuspage')
    .addHelpText(
      'after',
      examples(
        'aegis-ir drill                       # the default scenario',
        'aegis-ir drill --list',
        'aegis-ir drill oom --keep            # then, in another terminal, the commands it prints',
        'aegis-ir drill ./my-incident.yaml -o json',
        'aegis-ir drill api-down --with-incident   # the messages Slack, PagerDuty and Statuspage receive',
      ),
    )
    .action(async (name: string | undefined, options: { list?: boolean; keep?: boolean; withIncident?: boolean }, command: Command) => {
      const base = await host.context(command);
      if (options.list) {
        requireFormat(base, DOCUMENT_FORMATS);
        host.exit(await listDrills(base));
        return;
      }
      // The sandbox keeps the run's time, so its scenario times and the triage's ages agree.
      const sandbox = await start(name ?? DEFAULT_SCENARIO, base.signal, () => base.clock.now());
      let communication: CommunicationSandbox | null = null;
      try {
        // The sandbox is the only target: the operator's own cluster, database and Prometheus settings
        // (flags or environment) must not point the drill's triage elsewhere.
        const { kubeconfig, context, namespace, databaseUrl, prometheusUrl, ...globals } = optionsOf(command);
        const env = { ...withoutTargets(host.runtime.env), ...sandbox.env };
        const { buildContext } = await import('../core/app.js');
        const ctx = await buildContext(
          { ...host.runtime, env },
          globals,
          { kubeconfig: sandbox.kubeconfig, namespace: sandbox.namespace },
          // Nor may the config file: its context, database or Prometheus give way to the sandbox's (or to none).
          (config) => ({
            ...config,
            context: undefined,
            database: { ...config.database, url: sandbox.env.DATABASE_URL, pgbouncerUrl: undefined },
            prometheus: { ...config.prometheus, url: sandbox.env.PROMETHEUS_URL, token: undefined },
            // The sandbox's status pages (AEGIS_IR_STATUS_PAGES in its environment), or none: a drill never reads the real ones.
            aiProvider: { ...config.aiProvider, providers: sandbox.env.AEGIS_IR_STATUS_PAGES ? config.aiProvider.providers : [] },
            audit: { ...config.audit, path: sandbox.env.AEGIS_IR_AUDIT_LOG },
          }),
        );
        if (options.withIncident) communication = await startCommunication(sandbox, ctx.io.stderr, ctx.io.color);
        const flow = communication ? { ...env, ...communication.env } : null;
        const incident = flow ? () => playCommunication({ ...host.runtime, env: flow }, flow, ctx.config.output !== 'text') : null;
        host.exit(await play(ctx, sandbox, Boolean(options.keep), Boolean(optionsOf(command).verbose), name ?? DEFAULT_SCENARIO, incident));
        if (options.keep && communication && ctx.config.output === 'text') {
          ctx.io.stdout.write(`  set -a; . ${communication.envFile}; set +a   # the simulated Slack, PagerDuty and Statuspage, and the drill's incidents\n`);
        }
        if (options.keep) await untilCancelled(ctx.signal);
      } finally {
        await communication?.close();
        await sandbox.close();
      }
    });
}

/** Environment variables that name a cluster, database, Prometheus (libpq's PG* variables included) or where incidents are sent: a drill never pages the real on-call. */
const TARGET_VARIABLES =
  /^(KUBECONFIG|DATABASE_URL|PG[A-Z]+|PROMETHEUS_URL|AEGIS_IR_(CONTEXT|NAMESPACE|PGBOUNCER_URL|PROMETHEUS_TOKEN|SLACK_WEBHOOK_URL|SLACK_TOKEN|PAGERDUTY_ROUTING_KEY|STATUSPAGE_API_KEY|STATUS_PAGES))$/;

function withoutTargets(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !TARGET_VARIABLES.test(name)));
}

/** The sandbox (simulators, embedded servers) is loaded only by the command that needs it. */
const sandboxModule = () => import('../sandbox/sandbox.js');

async function start(name: string, signal: AbortSignal, clock: () => Date): Promise<Sandbox> {
  const { startSandbox, ScenarioError } = await sandboxModule();
  try {
    return await startSandbox(name, signal, clock);
  } catch (error) {
    if (error instanceof ScenarioError) throw new UsageError(error.message, 'aegis-ir drill --list');
    throw error;
  }
}

async function play(
  ctx: Context,
  sandbox: Sandbox,
  keep: boolean,
  verbose: boolean,
  scenarioArgument: string,
  incident: (() => Promise<IncidentStep[]>) | null,
): Promise<number> {
  const { scenario } = sandbox;
  const expected = scenario.document.expect?.severity;
  const report = await triage(ctx);
  const matches = expected === undefined || report.severity === expected;
  // The communication flow follows the triage: its documents join the drill's, its text follows the report.
  const text = ctx.config.output === 'text';
  const steps: IncidentStep[] = incident && !text ? await incident() : [];
  const document = {
    schemaVersion: SCHEMA_VERSION,
    command: 'drill',
    scenario: { name: scenario.name, description: scenario.document.description, expectedSeverity: expected ?? null },
    passed: matches,
    sandbox: { env: sandbox.env, kept: keep },
    triage: reportDocument(report),
    ...(incident ? { incident: steps } : {}),
  };
  await print(
    ctx,
    {
      document,
      report,
      text: (options) =>
        `${wrap(`${paint(options.color).bold(`Drill: ${scenario.name}`)} — ${scenario.document.description}`, options.width ?? 80)}\n\n$ aegis-ir triage\n` +
        `${reportText(report, options)}${incident ? '' : `\n${instructions(sandbox, keep, report, scenarioArgument)}`}`,
    },
    verbose,
  );
  if (incident && text) {
    steps.push(...(await incident()));
    ctx.io.stdout.write(`
${instructions(sandbox, keep, report, scenarioArgument)}`);
  }
  const failed = steps.find((s) => s.exitCode !== 0);
  if (failed) {
    ctx.io.stderr.write(`aegis-ir: drill ${scenario.name}: ${failed.command} exited ${failed.exitCode}
`);
    return ExitCode.internal;
  }
  if (!matches) {
    ctx.io.stderr.write(
      `aegis-ir: drill ${scenario.name} expected ${expected ?? 'a healthy verdict'} but triage classified ${report.severity ?? 'healthy'}\n`,
    );
    return ExitCode.internal;
  }
  return ExitCode.ok;
}

/**
 * How to explore the sandbox by hand. Only a kept sandbox gets the environment that points at it: without
 * --keep it is gone by the time anyone could paste an export.
 */
function instructions(sandbox: Sandbox, keep: boolean, report: Report, scenario: string): string {
  if (!keep) return `To explore it yourself, keep the sandbox running and follow what it prints:\n  aegis-ir drill ${scenario} --keep\n`;
  const exports = Object.entries(sandbox.env).map(([k, v]) => `  export ${k}=${v}`);
  const next = nextCommandsOf(report);
  const lines = [
    'The sandbox keeps running until Ctrl-C. In another terminal:',
    ...exports,
    `  kubectl get pods -n ${sandbox.namespace}`,
    ...(sandbox.env.DATABASE_URL ? ['  psql "$DATABASE_URL" -c "SELECT state, count(*) FROM pg_stat_activity GROUP BY 1"'] : []),
    '  aegis-ir triage',
    ...next.map((command) => `  ${command}`),
    '  aegis-ir runbook triage',
  ];
  return `${lines.join('\n')}\n`;
}

async function listDrills(ctx: Context): Promise<number> {
  const { listScenarios, loadScenario } = await sandboxModule();
  const drills = listScenarios().map((name) => {
    const { document } = loadScenario(name);
    return { name, description: document.description, expectedSeverity: document.expect?.severity ?? null };
  });
  const width = Math.max(...drills.map((d) => d.name.length));
  await print(ctx, {
    document: { schemaVersion: SCHEMA_VERSION, command: 'drill --list', scenarios: drills },
    text: (options) => drills.map((d) => `${listRow(`${d.name.padEnd(width)}  `, d.description, options.width ?? 80)}\n`).join(''),
  });
  return ExitCode.ok;
}

function untilCancelled(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
