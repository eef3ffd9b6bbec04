import { Command } from 'commander';
import type { ClusterReport, Report } from '../checks/verdict.js';
import type { Config } from '../core/config.js';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { examples, optionsOf, type CommandHost } from './host.js';

/**
 * Runs every triage check concurrently, each under its own deadline, then classifies the SEV and
 * names a rollout that preceded the symptoms.
 */
export async function triage(ctx: Context): Promise<Report> {
  await readAhead(ctx);
  const [{ assess }, { TRIAGE_CHECKS, TRIAGE_CORRELATIONS, triageConfiguredChecks }] = await Promise.all([import('../checks/assess.js'), import('../checks/triage-checks.js')]);
  return assess(ctx, 'triage', [...TRIAGE_CHECKS, ...triageConfiguredChecks(ctx.config)], [...TRIAGE_CORRELATIONS]);
}

/**
 * Starts triage's requests before its checks are loaded (when triage runs, not for `triage --help`): the
 * workload's first, then each pod's log as soon as the pods are known. The checks, and the rest of the run, load
 * while the cluster answers. Resolves once the requests are on their way (at once the second time).
 */
async function readAhead(ctx: Context): Promise<void> {
  await (await import('../checks/kubernetes/snapshot.js')).readAhead(ctx);
  (await import('../checks/kubernetes/error-logs.js')).readLogsAhead(ctx, triageLogTail(ctx.config));
}

/**
 * The longest tail triage's checks read of each pod's log (error-logs', ai-provider-logs'), known before they
 * are loaded; a test holds it to theirs. Were it to differ, the run would read the logs again, not misread them.
 */
export function triageLogTail(config: Config): number {
  return Math.max(config.triage.logTailLines, config.aiProvider.logTailLines);
}

export function triageCommand(host: CommandHost): Command {
  return new Command('triage')
    .option('--all-contexts', 'triage every context of the kubeconfig at once, one section per cluster')
    .addHelpText(
      'after',
      examples(
        'aegis-ir triage',
        'aegis-ir triage -o json --fail-on SEV2      # CI smoke test: exit 3 on SEV1/SEV2',
        'aegis-ir triage --kubeconfig ~/.kube/prod -n aegis --timeout 20s',
        'aegis-ir triage --context prod-eu --context prod-us   # several clusters: the worst verdict decides',
      ),
    )
    .action(async (options: { allContexts?: boolean }, command: Command) => {
      const globals = optionsOf(command);
      const verbose = Boolean(globals.verbose);
      const named = (globals.context as string[] | undefined) ?? [];
      if (options.allContexts && named.length) {
        throw new UsageError('--all-contexts and --context together: give one or the other', 'aegis-ir triage --all-contexts');
      }
      if (!options.allContexts && named.length < 2) {
        const ctx = await host.context(command);
        // Once triage's requests are out, the journal and the report load with the checks, while the
        // cluster answers, rather than after the checks.
        await readAhead(ctx);
        const [report, journal, output] = await Promise.all([triage(ctx), import('../incident/journal.js'), import('./report-output.js')]);
        await journal.journalVerdict(ctx, report);
        host.exit(await output.emitReport(ctx, report, verbose));
        return;
      }
      const contexts = options.allContexts ? await kubeconfigContexts(host, command) : [...new Set(named)];
      const first = await host.context(command, { context: contexts[0] });
      const progress = first.progress(`triage: ${contexts.length} clusters (${contexts.join(', ')})…`);
      try {
        const { combineClusters } = await import('../checks/verdict.js');
        const clusters = await Promise.all(contexts.map((context) => triageCluster(host, command, context)));
        host.exit(await (await import('./report-output.js')).emitReport(first, combineClusters('triage', clusters), verbose));
      } finally {
        progress.stop();
      }
    });
}

/** One cluster's triage, as `triage --context NAME` would run it, under its own deadlines. */
async function triageCluster(host: CommandHost, command: Command, context: string): Promise<ClusterReport> {
  const ctx = await host.context(command, { context });
  const report = await triage({
    ...ctx,
    // One spinner speaks for every cluster.
    progress: () => ({ update: () => undefined, stop: () => undefined }),
    // Each cluster's checks listen on a signal of its own, which follows the run's (Ctrl-C).
    signal: AbortSignal.any([ctx.signal]),
  });
  // Each cluster's verdict is journalled on its own, naming its cluster, as `triage --context NAME` would.
  await (await import('../incident/journal.js')).journalVerdict(ctx, report);
  return { context, report };
}

/** `--all-contexts`: every context the kubeconfig (merged as kubectl merges KUBECONFIG) defines. */
async function kubeconfigContexts(host: CommandHost, command: Command): Promise<string[]> {
  const ctx = await host.context(command);
  const { kubeContextNames } = await import('../kube/contexts.js');
  const names = await kubeContextNames(ctx.config.kubeconfig, ctx.env);
  if (!names.length) throw new UsageError('the kubeconfig defines no context', 'check it with: kubectl config get-contexts');
  return names;
}
