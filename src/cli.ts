import { Command, CommanderError, Help, InvalidArgumentError, Option } from 'commander';
import { SEVERITIES, parseFailOn } from './core/severity.js';
import { ExitCode, UsageError, exitCodeFor, exitCodeSummary, hintFor } from './core/errors.js';
import { wrap, wrapItems } from './render/wrap.js';
import { Redactor } from './core/redact.js';
import { neutralise } from './core/neutralise.js';
import { OUTPUT_FORMATS, type TextSink } from './core/io.js';
import type { Runtime } from './core/runtime.js';
import { HELP_WIDTH, examples, makeHost, type CommandHost } from './commands/host.js';
import manifest from '../package.json' with { type: 'json' };

/** A top-level command: its name and description, and the module that builds it, loaded on demand. */
interface CommandEntry {
  name: string;
  description: string;
  /** `argv`: the run's words, for a command that builds only what they name. */
  load(argv: readonly string[]): Promise<(host: CommandHost) => Command>;
  /** Left out of the help and the completions: machinery the generated scripts call. */
  hidden?: boolean;
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
    load: async (argv) => (await import('./commands/fix.js')).fixCommandFor(argv),
  },
  {
    name: 'incident',
    description: 'Communication and escalation: declare, update, escalate, watch and resolve an incident',
    load: async () => (await import('./commands/incident.js')).incidentCommand,
  },
  {
    name: 'postmortem',
    description: 'Post-incident: the timeline, the 24-hour checklist and the blameless post-mortem draft of an incident',
    load: async () => (await import('./commands/postmortem.js')).postmortemCommand,
  },
  {
    name: 'monitoring',
    description: "Monitoring: Prometheus alerting rules for the runbook's key metrics at the configured thresholds",
    load: async () => (await import('./commands/monitoring.js')).monitoringCommand,
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
  {
    name: 'completion',
    description: 'Print the shell completion script (bash, zsh, fish, powershell)',
    load: async () => {
      const { completionCommand } = await import('./commands/completion.js');
      return (host) => completionCommand(host, () => buildProgram(host, COMMANDS.map((c) => c.name)));
    },
  },
  {
    name: 'version',
    description: "Print aegis-ir's version and its client libraries'",
    load: async () => (await import('./commands/version.js')).versionCommand,
  },
  {
    name: '__man',
    description: 'the manual page, generated from the help',
    hidden: true,
    load: fromHelp('manCommand'),
  },
  {
    name: '__help-table',
    description: 'the fixed text of every help, for dist/help.json',
    hidden: true,
    load: fromHelp('helpTableCommand'),
  },
  {
    name: '__complete',
    description: 'values for the completion scripts',
    hidden: true,
    load: async () => (await import('./commands/completion.js')).completeCommand,
  },
];

/** A build-time command of man.ts, made from the help of the program as each run builds it. */
function fromHelp(name: 'manCommand' | 'helpTableCommand'): CommandEntry['load'] {
  return async () => {
    const made = (await import('./commands/man.js'))[name];
    return (host) => made(host, (argv) => buildProgram(host, argv));
  };
}

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
    .option('--context <name>', 'kubeconfig context to use; triage takes it repeated, for several clusters at once', collectContexts)
    .option('-n, --namespace <ns>', 'namespace of the Aegis workloads (default: aegis)')
    .option('-l, --selector <labels>', "label selector of the app's pods (config app.selector; default: app=aegis-api)")
    .option('--deployment <name>', 'the Deployment to look at (config app.deployment; default: aegis-api)')
    .option('--container <name>', "the app's container in its pods (config app.container; default: kubectl's rule)")
    .option('--database-url <url>', 'PostgreSQL URL (env: DATABASE_URL; libpq PG* variables fill in the rest)')
    .option('--idle-older-than <duration>', 'sessions idle longer than this count as long-idle (default: 10m)')
    .option('--prometheus-url <url>', 'Prometheus HTTP API base URL (env: PROMETHEUS_URL)')
    .option('--config <file>', 'YAML config file (env: AEGIS_IR_CONFIG; default ~/.config/aegis-ir/config.yaml)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS))
    .addOption(
      new Option('--fail-on <sev>', 'exit 3 when a severity at or above this is classified (default: SEV4)')
        .choices([...SEVERITIES, 'never'])
        .argParser(failOnArgument),
    )
    .option('--timeout <duration>', 'deadline for the whole run, e.g. 30s, 2m (default: 30s)')
    .option('--no-color', 'disable colour (env: NO_COLOR)')
    .option('-y, --yes', 'answer yes to confirmations (required without a terminal)')
    .option('-v, --verbose', 'more evidence on stdout (every item, full values) and debug lines on stderr')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      examples(
        'aegis-ir drill                               # try it: the built-in sandbox with an incident injected',
        'aegis-ir triage                              # what is wrong, how bad, who to call, what to run next',
        'aegis-ir triage -o json --fail-on SEV2       # CI gate',
        'aegis-ir fix db-connections --dry-run',
      ) +
        `\n${wrap(`Exit codes: ${exitCodeSummary()}.`, HELP_WIDTH)}\n`,
    )
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false, formatHelp: (command, helper) => `${Help.prototype.formatHelp.call(helper, command, helper)}${inheritedFlags(command, helper)}` })
    .helpCommand(false)
    .configureOutput({
      writeOut: (text) => runtime.stdout.write(text),
      writeErr: (text) => runtime.stderr.write(text),
      // At most HELP_WIDTH, as the prose after the options is: a wide terminal reads the same help as a pipe.
      getOutHelpWidth: () => Math.min(runtime.stdoutColumns || HELP_WIDTH, HELP_WIDTH),
      getErrHelpWidth: () => Math.min(runtime.stderrColumns || HELP_WIDTH, HELP_WIDTH),
    })
    .exitOverride();
  for (const entry of COMMANDS) {
    const command = argv.includes(entry.name) ? (await entry.load(argv))(host) : new Command(entry.name);
    program.addCommand(command.description(entry.description), { hidden: entry.hidden });
    inherit(command, program);
  }
  const help = program
    .command('help [command...]')
    .description('Show the help of a command or subcommand: aegis-ir help fix rollback')
    .action((path: string[]) => helpOf(program, path).outputHelp());
  inherit(help, program);
  return program;
}

/** `--context` given more than once: every value, in order. */
function collectContexts(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The command `path` names below `program`, as `help fix rollback` names `fix rollback`. */
function helpOf(program: Command, path: string[]): Command {
  let command = program;
  for (const name of path) {
    const next = command.commands.find((c) => c.name() === name);
    // After a command without subcommands come its arguments (help diagnose memory): its own help covers them.
    if (!next && command.commands.length === 0 && command.registeredArguments.length > 0) return command;
    if (!next) throw new UsageError(`unknown command "${[fullName(command), name].join(' ')}"`, `${fullName(command)} --help`);
    command = next;
  }
  return command;
}

/**
 * The global flags every subcommand takes, as gh lists them: names only, wrapped to the help's width, after
 * the command's own flags (the root's --help describes each).
 */
function inheritedFlags(command: Command, helper: Help): string {
  let root = command;
  while (root.parent) root = root.parent;
  if (root === command) return '';
  const flags = root.options.filter((o) => !o.hidden && o.long !== '--version').map((o) => o.flags);
  const lines = wrapItems(flags, (helper.helpWidth ?? 80) - 2, '  ');
  return `\nInherited Flags (aegis-ir --help describes them):\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
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
 * stack trace. With `-o json` a run that ends without its document prints the error document instead,
 * so every run prints exactly one.
 */
export async function runCli(argv: string[], runtime: Runtime): Promise<number> {
  let exitCode: number = ExitCode.ok;
  // One redactor for the run: secrets the context learns (a database password) stay hidden in the
  // error printed below too.
  const redactor = runtime.redactor ?? new Redactor();
  const stdout = watched(runtime.stdout);
  let output: string | undefined;
  const base = makeHost({ ...runtime, stdout, redactor }, (code) => {
    exitCode = code;
  });
  const host: CommandHost = {
    ...base,
    context: async (command, extraFlags) => {
      const ctx = await base.context(command, extraFlags);
      output = ctx.config.output;
      return ctx;
    },
  };
  let program: Command | undefined;
  const fail = async (code: number, message: string, hint: string | undefined): Promise<number> => {
    if (!stdout.written && (output ?? requestedOutput(argv, runtime.env)) === 'json') {
      // Loaded only on this path, so that `--help` stays fast.
      const { errorDocument } = await import('./render/error-document.js');
      const document = errorDocument(commandPath(program, argv), code, redactor.redact(message), hint && redactor.redact(hint));
      stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    }
    return code;
  };
  try {
    // Inside the try: a command module that fails to load is reported like any other internal error.
    program = await buildProgram(host, argv);
    // Plain `aegis-ir` is a request for help, as with kubectl and gh: on stdout, exit 0.
    // `fix ai-provider --timeout 60s` is the app's AI timeout, not the run's deadline (see ownSpellings).
    const words = argv.includes('fix') ? await (await import('./commands/fix.js')).ownSpellings(argv) : argv;
    await program.parseAsync(words.length ? words : ['--help'], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return ExitCode.ok;
      // Commander has printed the message and the help hint on stderr already.
      return fail(ExitCode.usage, error.message.replace(/^error: /, ''), `${commandPath(program, argv)} --help`);
    }
    const code = exitCodeFor(error);
    const message = error instanceof Error ? error.message : String(error);
    if (code === ExitCode.internal) {
      const hint = 'this is a bug in aegis-ir; rerun with AEGIS_IR_DEBUG=1 for the stack trace and report it';
      runtime.stderr.write(
        redactor.redact(`aegis-ir: internal error: ${message}\n${runtime.env.AEGIS_IR_DEBUG ? `${(error as Error).stack}\n` : ''}` +
          'This is a bug in aegis-ir; rerun with AEGIS_IR_DEBUG=1 for the stack trace and report it.\n'),
      );
      return fail(code, `internal error: ${message}`, hint);
    }
    const hint = hintFor(error);
    // A message may quote the cluster or the database (a pod's name, a server's reason): shown escaped.
    runtime.stderr.write(redactor.redact(neutralise(`aegis-ir: ${message}\n${hint ? `  try: ${hint}\n` : ''}`)));
    return fail(code, message, hint);
  }
}

/** A sink that remembers whether anything was written to it: whether a command printed its document. */
function watched(sink: TextSink): TextSink & { written: boolean } {
  const watcher = {
    written: false,
    write(text: string) {
      if (text.length) watcher.written = true;
      return sink.write(text);
    },
  };
  return watcher;
}

/**
 * The output format asked for, read from argv and the environment: what the run says when it fails
 * before its configuration could be loaded (a bad flag, a broken config file).
 */
function requestedOutput(argv: readonly string[], env: Record<string, string | undefined>): string | undefined {
  let output = env.AEGIS_IR_OUTPUT;
  argv.forEach((arg, i) => {
    const inline = /^(?:--output=|-o=?)(.+)$/.exec(arg);
    if (inline) output = inline[1];
    else if (arg === '-o' || arg === '--output') output = argv[i + 1];
  });
  return output;
}

/** `aegis-ir fix scale`: the command the words of argv name, as far as they name one. */
function commandPath(program: Command | undefined, argv: readonly string[]): string {
  let command = program;
  const names = ['aegis-ir'];
  for (const arg of argv) {
    const next = command?.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!next) continue;
    command = next;
    names.push(next.name());
  }
  return names.join(' ');
}
