import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { SEVERITIES, parseFailOn } from './core/severity.js';
import { ExitCode, exitCodeFor, hintFor } from './core/errors.js';
import { Redactor } from './core/redact.js';
import type { Runtime } from './core/runtime.js';
import { examples, makeHost, type CommandHost } from './commands/host.js';
import manifest from '../package.json' with { type: 'json' };

/** A top-level command: its name and description, and the module that builds it, loaded on demand. */
interface CommandEntry {
  name: string;
  description: string;
  load(): Promise<(host: CommandHost) => Command>;
}

/**
 * Every top-level command, in the order `--help` lists them. A command's module (and the Kubernetes,
 * PostgreSQL and Prometheus clients behind it) is imported only when the command line names it, so
 * `aegis-ir --help` starts at close to plain-node speed.
 */
const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'triage',
    description: 'Triage steps 1–3: pods, resource use, rollouts, error logs, health and key metrics; classify the SEV',
    load: async () => (await import('./commands/triage.js')).triageCommand,
  },
  {
    name: 'diagnose',
    description: "Run the diagnosis of one of the runbook's common issues and classify the SEV",
    load: async () => (await import('./commands/diagnose.js')).diagnoseCommand,
  },
  {
    name: 'fix',
    description: 'Apply one of the runbook remediations under guards: plan, confirm, lock, re-validate, audit, verify',
    load: async () => (await import('./commands/fix.js')).fixCommand,
  },
  {
    name: 'drill',
    description: 'Game day: start the built-in sandbox with an incident injected and triage it',
    load: async () => (await import('./commands/drill.js')).drillCommand,
  },
  {
    name: 'runbook',
    description: 'Show the incident-response runbook: its contents, or one section with its subsections',
    load: async () => (await import('./commands/runbook.js')).runbookCommand,
  },
];

/**
 * Builds the commander program for one run. Commands named anywhere in `argv` are built for real;
 * the others only need their name and description, for the command list and suggestions.
 */
export async function buildProgram(host: CommandHost, argv: readonly string[]): Promise<Command> {
  const { runtime } = host;
  const program = new Command('aegis-ir')
    .description(
      'Incident response for Cloud Aegis: gather the evidence the runbook asks for, classify the SEV, fix safely.',
    )
    .version(manifest.version, '--version', 'print the version')
    .option('--kubeconfig <file>', 'kubeconfig file (env: KUBECONFIG)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('-n, --namespace <ns>', 'namespace of the Aegis workloads (default: aegis)')
    .option('-l, --selector <labels>', "label selector of the app's pods (config app.selector; default: app=aegis-api)")
    .option('--deployment <name>', 'the Deployment to look at (config app.deployment; default: aegis-api)')
    .option('--container <name>', "the app's container in its pods (config app.container; default: kubectl's rule)")
    .option('--database-url <url>', 'PostgreSQL URL (env: DATABASE_URL; libpq PG* variables fill in the rest)')
    .option('--idle-older-than <duration>', 'sessions idle longer than this count as long-idle (default: 10m)')
    .option('--prometheus-url <url>', 'Prometheus HTTP API base URL (env: PROMETHEUS_URL)')
    .option('--config <file>', 'YAML config file (env: AEGIS_IR_CONFIG; default ~/.config/aegis-ir/config.yaml)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']))
    .addOption(
      new Option('--fail-on <sev>', 'exit 3 when a severity at or above this is classified (default: SEV4)')
        .choices([...SEVERITIES, 'never'])
        .argParser(failOnArgument),
    )
    .option('--timeout <duration>', 'deadline for the whole run, e.g. 30s, 2m (default: 30s)')
    .option('--no-color', 'disable colour (env: NO_COLOR)')
    .option('-y, --yes', 'answer yes to confirmations (required without a terminal)')
    .option('-v, --verbose', 'print debug detail on stderr')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      examples(
        'aegis-ir drill                               # try it: the built-in sandbox with an incident injected',
        'aegis-ir triage                              # what is wrong, how bad, who to call, what to run next',
        'aegis-ir triage -o json --fail-on SEV2       # CI gate',
        'aegis-ir fix db-connections --dry-run',
      ) +
        '\nExit codes: 0 ok, 1 internal error, 2 usage or configuration, 3 severity at or above --fail-on,\n' +
        '4 verdict incomplete (target unreachable), 5 refused by a guard, 130 cancelled.\n',
    )
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (text) => runtime.stdout.write(text),
      writeErr: (text) => runtime.stderr.write(text),
    })
    .exitOverride();
  for (const entry of COMMANDS) {
    const command = argv.includes(entry.name) ? (await entry.load())(host) : new Command(entry.name);
    program.addCommand(command.description(entry.description));
    inherit(command, program);
  }
  return program;
}

/** `--fail-on` in any case, as people type it: `sev2`, `SEV2`, `Never`. */
function failOnArgument(value: string): string {
  const parsed = parseFailOn(value);
  if (!parsed) throw new InvalidArgumentError(`Expected one of ${[...SEVERITIES, 'never'].join(', ')} (in any case).`);
  return parsed;
}

/**
 * Commands are built on their own, so they (and their subcommands) take the program's help, output
 * and exit settings here: no command may call process.exit or print outside the runtime's streams.
 */
function inherit(command: Command, parent: Command): void {
  command.copyInheritedSettings(parent).showHelpAfterError(`(run "${fullName(command)} --help" for usage)`);
  for (const child of command.commands) inherit(child, command);
}

function fullName(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Runs the CLI for `argv` (without node and script) and returns the exit code. Typed errors are
 * mapped to SPEC's exit codes here and only here; user errors print one line and a hint, never a
 * stack trace.
 */
export async function runCli(argv: string[], runtime: Runtime): Promise<number> {
  let exitCode: number = ExitCode.ok;
  // One redactor for the run: secrets the context learns (a database password) stay hidden in the
  // error printed below too.
  const redactor = runtime.redactor ?? new Redactor();
  const host = makeHost({ ...runtime, redactor }, (code) => {
    exitCode = code;
  });
  try {
    // Inside the try: a command module that fails to load is reported like any other internal error.
    const program = await buildProgram(host, argv);
    // Plain `aegis-ir` is a request for help, as with kubectl and gh: on stdout, exit 0.
    await program.parseAsync(argv.length ? argv : ['--help'], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const code = exitCodeFor(error);
    const message = error instanceof Error ? error.message : String(error);
    if (code === ExitCode.internal) {
      runtime.stderr.write(
        redactor.redact(`aegis-ir: internal error: ${message}\n${runtime.env.AEGIS_IR_DEBUG ? `${(error as Error).stack}\n` : ''}` +
          'This is a bug in aegis-ir; rerun with AEGIS_IR_DEBUG=1 for the stack trace and report it.\n'),
      );
    } else {
      const hint = hintFor(error);
      runtime.stderr.write(redactor.redact(`aegis-ir: ${message}\n${hint ? `  try: ${hint}\n` : ''}`));
    }
    return code;
  }
}
