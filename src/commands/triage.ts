import { Command } from 'commander';
import { TRIAGE_CHECKS } from '../checks/registry.js';
import { nameSuspectRollout } from '../checks/kubernetes/rollout-suspect.js';
import { runChecks } from '../checks/runner.js';
import { classify, type Report } from '../checks/verdict.js';
import type { Context } from '../core/context.js';
import { optionsOf } from '../core/app.js';
import { emitReport } from './report-output.js';
import { examples, type CommandHost } from './host.js';

/**
 * Runs every triage check concurrently, each under its own deadline, then classifies the SEV and
 * names a rollout that preceded the symptoms.
 */
export async function triage(ctx: Context): Promise<Report> {
  const progress = ctx.progress(`Triage of ${ctx.config.app.deployment} in namespace ${ctx.config.namespace}…`);
  try {
    const outcomes = await runChecks(ctx, [...TRIAGE_CHECKS], {
      checkTimeoutMs: ctx.config.checkTimeout,
      timeoutMs: ctx.config.timeout,
    });
    const findings = outcomes.flatMap((o) => o.findings);
    return classify('triage', outcomes, nameSuspectRollout(findings, ctx.clock.now()));
  } finally {
    progress.stop();
  }
}

export function triageCommand(host: CommandHost): Command {
  return new Command('triage')
    .description('Triage steps 1–3: pods, resource use, rollouts, error logs and health; classify the SEV')
    .addHelpText(
      'after',
      examples(
        'aegis-ir triage',
        'aegis-ir triage -o json --fail-on SEV2      # CI smoke test: exit 3 on SEV1/SEV2',
        'aegis-ir triage --kubeconfig ~/.kube/prod -n aegis --timeout 20s',
      ),
    )
    .action(async (_options, command: Command) => {
      const ctx = host.context(command);
      host.exit(emitReport(ctx, await triage(ctx), Boolean(optionsOf(command).verbose)));
    });
}
