import { Command, InvalidArgumentError } from 'commander';
import { ExitCode, UsageError } from '../core/errors.js';
import { REMEDIATION_IDS, isRemediationId, loadRemediation, loadRemediations, type RemediationId } from '../remediations/registry.js';
import type { Remediation } from '../remediations/remediation.js';
import { positiveDuration } from '../remediations/arguments.js';
import type { PlanFile } from '../remediations/plan-file.js';
import { FIX_WHOLE_LINE, fixDocument, fixText, remediationListDocument, remediationListText } from '../remediations/render.js';
import { DOCUMENT_FORMATS, print, requireFormat } from '../render/output.js';
import { shellWord } from '../core/shell.js';
import { didYouMean } from '../core/suggest.js';
import type { FixReport } from '../remediations/engine.js';
import { HELP_WIDTH, examples, optionsOf, type CommandHost } from './host.js';
import { reflow, wrapText } from '../render/wrap.js';

/** How long a saved plan stays valid unless `--plan-expiry` says otherwise. */
const DEFAULT_PLAN_EXPIRY = '15m';

/**
 * `fix <remediation>`, built for `argv`: a run naming a remediation (`fix db-connections --yes`) loads that one
 * alone; anything else (`fix --list`, `fix --help`, a name that is none) loads them all.
 */
export async function fixCommandFor(argv: readonly string[]): Promise<(host: CommandHost) => Command> {
  const named = namedRemediations(argv);
  const remediations = await (named.length ? Promise.all(named.map(loadRemediation)) : loadRemediations());
  return (host) => fixCommand(host, remediations);
}

/**
 * The remediations the words after `fix` name, unless they ask for help. Every such word, not only the first: in
 * `fix -n restart rollback` the namespace is called restart, and commander, not this, knows which flags take values.
 */
function namedRemediations(argv: readonly string[]): RemediationId[] {
  const fix = argv.indexOf('fix');
  if (fix < 0 || argv[0] === 'help' || argv.some((word) => word === '--help' || word === '-h')) return [];
  return [...new Set(argv.slice(fix + 1).filter(isRemediationId))];
}

/** `fix <remediation>`: one guarded remediation per subcommand; `fix --list` shows them all with their risk. */
function fixCommand(host: CommandHost, remediations: readonly Remediation[]): Command {
  const fix = new Command('fix')
    .argument('[remediation]', 'the remediation to plan or apply (see --list)')
    .usage('<remediation> [options]')
    .option('--list', 'list every remediation with its risk')
    .addHelpText(
      'after',
      `\nRemediations:\n${remediationListText(remediations, false, HELP_WIDTH)}` +
        examples('aegis-ir fix --list', 'aegis-ir fix db-connections --dry-run', 'aegis-ir fix db-connections --yes -o json'),
    )
    .action(async (unknown: string | undefined, _options, command: Command) => {
      const ctx = await host.context(command);
      if (unknown !== undefined) {
        const ids = REMEDIATION_IDS;
        throw new UsageError(`unknown remediation "${unknown}"${didYouMean(unknown, ids)}; expected one of: ${ids.join(', ')}`, 'aegis-ir fix --list');
      }
      if (!optionsOf(command).list) {
        throw new UsageError('name the remediation to apply', 'aegis-ir fix --list');
      }
      requireFormat(ctx, DOCUMENT_FORMATS);
      await print(ctx, { document: remediationListDocument(remediations), text: ({ color, width }) => remediationListText(remediations, color, width ?? 80) });
      host.exit(ExitCode.ok);
    });
  for (const remediation of remediations) fix.addCommand(remediationCommand(host, remediation));
  return fix;
}

function remediationCommand(host: CommandHost, remediation: Remediation): Command {
  const command = new Command(remediation.id)
    .description(`${remediation.summary} (risk: ${remediation.risk})`)
    .option('--dry-run', 'print the plan (exactly what would be done) and change nothing')
    .option('--save-plan <file>', 'with --dry-run: keep the reviewed plan in FILE, to apply exactly it with --plan')
    .option('--plan-expiry <duration>', `how long a saved plan can be applied (default ${DEFAULT_PLAN_EXPIRY})`)
    .option('--plan <file>', 'apply exactly the plan saved in FILE, or refuse (exit 5) if the one derived now differs')
    .option('--break-lock', "take over the target's lock when it was left by your own run that is no longer alive");
  if (remediation.operand) command.argument(`[${remediation.operand.name}]`, remediation.operand.description);
  if (remediation.list) command.option('--list', remediation.list.description);
  for (const option of remediation.options()) command.addOption(option);
  if (remediation.cap) {
    command.option(
      '--max <n>',
      `safety cap override: at most this many ${remediation.cap.unit} (default ${remediation.cap.default})`,
      positiveInteger,
    );
  }
  return command
    .addHelpText('after', `\n${reflow(remediation.description, HELP_WIDTH)}\n${examples(...remediation.examples)}`)
    .action(async (...params: unknown[]) => {
      // Commander passes the operand (when the remediation has one), the options, then the command.
      const self = params.at(-1) as Command;
      const options = params.at(-2) as Record<string, unknown>;
      // The context takes the global flags only: a remediation's own flag of the same name is not a global one.
      const ctx = await host.context(self.parent ?? self);
      requireFormat(ctx, DOCUMENT_FORMATS);
      const { dryRun, savePlan, planExpiry, plan, breakLock, list, ...flags } = options;
      // `fix` has a --list of its own, which takes the flag before this command sees it.
      if (remediation.list && (list || optionsOf(self).list)) {
        await print(ctx, remediation.list.printable(ctx));
        host.exit(ExitCode.ok);
        return;
      }
      const given = params.length > 2 ? params[0] : undefined;
      // A saved plan carries the operand it was derived with.
      const value = remediation.operand ? (given ?? (plan === undefined ? remediation.operand.default?.(ctx) : undefined) ?? undefined) : undefined;
      const operand = remediation.operand && value !== undefined ? { [remediation.operand.key]: value } : {};
      const own = { ...flags, ...operand };
      if (savePlan !== undefined && (!dryRun || plan !== undefined)) {
        throw new UsageError('--save-plan keeps the plan a dry run derives; it goes with --dry-run and without --plan', `aegis-ir fix ${remediation.id} --dry-run --save-plan ${String(savePlan)}`);
      }
      const saved = plan === undefined ? undefined : await savedPlan(remediation, String(plan), own);
      // Applying a saved plan derives it again with the remediation's flags it was saved with.
      const effective = saved ? saved.file.options : own;
      const commandLine = [`aegis-ir fix ${remediation.id}`, ...Object.values(operand).map((v) => shellWord(String(v))), ...typedFlags(self, ['dryRun', 'savePlan', 'planExpiry']), ...(ctx.rerunFlags ?? [])].join(' ');
      // The engine (audit, locks, plan files) loads when a remediation runs, not for its --help.
      const { runRemediation } = await import('../remediations/engine.js');
      const report = await runRemediation(ctx, remediation, effective, {
        commandLine,
        dryRun: Boolean(dryRun),
        yes: Boolean(optionsOf(self).yes),
        max: effective.max as number | undefined,
        savePlan:
          savePlan === undefined
            ? undefined
            : { path: String(savePlan), validMs: positiveDuration('--plan-expiry', planExpiry, DEFAULT_PLAN_EXPIRY), options: own },
        planFile: saved,
        breakLock: Boolean(breakLock),
      });
      await print(ctx, { document: fixDocument(report), text: ({ color, width }) => wrapText(fixText(report, color) + applyLine(report, commandLine), width ?? 80, FIX_WHOLE_LINE) });
      host.exit(report.exitCode);
    });
}

/** The remediation's own flags the operator typed (not their defaults), as they typed them. */
function typedFlags(command: Command, leaveOut: string[]): string[] {
  return command.options.flatMap((option) => {
    const key = option.attributeName();
    if (leaveOut.includes(key) || command.getOptionValueSource(key) !== 'cli' || !option.long) return [];
    const value: unknown = command.getOptionValue(key);
    return typeof value === 'boolean' ? [option.long] : [option.long, shellWord(String(value))];
  });
}

/** A dry run ends with the exact command that applies what it showed. */
function applyLine(report: FixReport, commandLine: string): string {
  if (!report.dryRun) return '';
  const max = report.cap?.exceeded ? ` --max ${report.plan.size}` : '';
  return report.savedPlan ? '' : `To apply this plan: ${commandLine}${max}\n`;
}

/**
 * Reads the plan file for `fix <remediation> --plan FILE`: it must be one saved by this remediation, and
 * the remediation's flags, when given again, must be the ones it was saved with.
 */
async function savedPlan(remediation: Remediation, path: string, own: Record<string, unknown>): Promise<{ path: string; file: PlanFile }> {
  const file = (await import('../remediations/plan-file.js')).readPlanFile(path);
  if (file.remediation !== remediation.id) {
    throw new UsageError(`the plan in ${path} is for fix ${file.remediation}, not fix ${remediation.id}`, `aegis-ir fix ${file.remediation} --plan ${path}`);
  }
  for (const [key, value] of Object.entries(own)) {
    if (JSON.stringify(value) !== JSON.stringify(file.options[key])) {
      const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new UsageError(
        `${flag} ${String(value)} differs from the plan in ${path} (${file.options[key] === undefined ? 'not given' : `${flag} ${String(file.options[key])}`})`,
        `leave the remediation's flags out: aegis-ir fix ${remediation.id} --plan ${path}`,
      );
    }
  }
  return { path, file };
}

/** Parses a flag that counts something: a whole number of at least 1. */
export function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got "${text}"`);
  return value;
}

/**
 * A remediation's own flag spelled like a global one is the remediation's when it follows the remediation's name
 * (SPEC names both): `aegis-ir --timeout 30s fix ai-provider --timeout 60s` is a 30 s deadline and a 60 s AI timeout.
 * The program takes global flags anywhere on the line, so such a flag is given its own spelling before parsing.
 */
export async function ownSpellings(argv: readonly string[]): Promise<string[]> {
  const fix = argv.indexOf('fix');
  if (fix < 0) return [...argv];
  const id = argv.slice(fix + 1).find(isRemediationId);
  const spellings = id && (await loadRemediation(id)).ownSpellings;
  if (!spellings) return [...argv];
  const at = argv.indexOf(id, fix + 1);
  const end = argv.indexOf('--', at) < 0 ? argv.length : argv.indexOf('--', at);
  return argv.map((word, i) => {
    if (i <= at || i >= end) return word;
    const [flag = '', value] = word.split(/=(.*)/s);
    const own = spellings[flag];
    return own === undefined ? word : value === undefined ? own : `${own}=${value}`;
  });
}
