import { Command } from 'commander';
import { ExitCode } from '../core/errors.js';
import { DOCUMENT_FORMATS, print, requireFormat } from '../render/output.js';
import { alertingRules, prometheusRule } from '../prometheus/rules.js';
import { SCHEMA_VERSION } from '../render/report.js';
import { examples, type CommandHost } from './host.js';

/**
 * `monitoring rules` (runbook: Key Metrics to Monitor; Post-Incident "update monitoring if gap
 * identified"): the alerting rules that would have paged for what triage finds, as a Prometheus rules
 * file, or with `-o yaml` as a `PrometheusRule` for the prometheus-operator (`-o json`: the same object in
 * aegis-ir's document).
 */
export function monitoringCommand(host: CommandHost): Command {
  const monitoring = new Command('monitoring');
  monitoring.addCommand(
    new Command('rules')
      .description("Print Prometheus alerting rules for the runbook's key metrics at the configured thresholds")
      .option('--for <duration>', 'how long a condition must hold before its alert fires, e.g. 5m, 0s (default: 5m)')
      .addHelpText(
        'after',
        examples(
          'aegis-ir monitoring rules > aegis-ir.rules.yml && promtool check rules aegis-ir.rules.yml',
          'aegis-ir monitoring rules -o yaml | kubectl apply -f -     # a PrometheusRule',
          'aegis-ir monitoring rules --for 10m',
        ),
      )
      .action(async (_options, command: Command) => {
        const ctx = await host.context(command);
        requireFormat(ctx, DOCUMENT_FORMATS);
        const { stringify } = await import('yaml');
        const rule = prometheusRule(ctx.config);
        await print(ctx, {
          // JSON is aegis-ir's document (schemaVersion 1, as every -o json); YAML is the object for kubectl apply.
          document: { schemaVersion: SCHEMA_VERSION, command: 'monitoring rules', prometheusRule: rule },
          yaml: rule,
          text: () => stringify(alertingRules(ctx.config), { lineWidth: 0 }),
          hint: 'Check them with: promtool check rules FILE',
        });
        host.exit(ExitCode.ok);
      }),
  );
  return monitoring;
}
