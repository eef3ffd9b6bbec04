import { Option } from 'commander';
import { memoryUsageCheck } from '../checks/memory/memory-usage.js';
import type { ConfigKey } from '../kube/config-document.js';
import { positiveWhole } from './arguments.js';
import { ConfigMapRolloutSession } from './configmap-rollout.js';
import { defineRemediation } from './remediation.js';
import { rolloutTimeoutOf, rolloutTimeoutOption } from './workload-patch.js';

interface Args {
  to: number;
  rolloutTimeoutMs: number;
}

/**
 * `fix batch-size --to N`: the runbook's "Reduce batch sizes for processing". Sets the app's batch
 * size in its ConfigMap (`memory.batchSize.configMap` / `memory.batchSize.key`), edited in place so
 * nothing else in the file changes, then restarts the deployment so its pods read it and waits for
 * the rollout (the guards of {@link ConfigMapRolloutSession}). Smaller batches hold less at once;
 * verified by memory usage afterwards.
 */
export const batchSizeRemediation = defineRemediation<Args>({
  id: 'batch-size',
  summary: "Set the app's processing batch size in its ConfigMap, then rolling-restart it",
  description:
    'Changes the batch-size key (memory.batchSize.configMap / memory.batchSize.key in the config) to --to N, validated\n' +
    'by a server-side dry run, then restarts the deployment so its pods pick it up. A smaller batch holds less memory\n' +
    'at once; aegis-ir diagnose memory shows whether batch handling is what holds the heap.',
  risk: 'medium',
  anchor: 'issue-high-memory-usage',
  options: () => [new Option('--to <n>', 'the new batch size').makeOptionMandatory(), rolloutTimeoutOption()],
  examples: ['aegis-ir fix batch-size --to 2500 --dry-run', 'aegis-ir fix batch-size --to 2500 --yes'],
  parseArgs: (options) => ({ to: positiveWhole('--to', options.to), rolloutTimeoutMs: rolloutTimeoutOf(options) }),
  checks: async () => [memoryUsageCheck],
  async open(ctx, args) {
    const [kube, { parseConfigKey }] = await Promise.all([ctx.kube(), import('../kube/config-document.js')]);
    const { configMap } = ctx.config.memory.batchSize;
    const key: ConfigKey = parseConfigKey(ctx.config.memory.batchSize.key);
    return new ConfigMapRolloutSession(
      ctx,
      kube,
      {
        configMap,
        configMapKey: 'memory.batchSize.configMap',
        plan: (current) => {
          const was = current(key);
          const raising = was !== null && Number(was) < args.to;
          return {
            summary: `set the batch size in configmap/${configMap} from ${was ?? 'unset'} to ${args.to}`,
            changes: [{ key, value: args.to, label: 'batch size' }],
            size: args.to,
            notes: raising ? [`this raises the batch size (${was} → ${args.to}): each batch will hold more memory`] : [],
          };
        },
        verifyWith: [memoryUsageCheck],
        verifyDetails: (current) => ({ batchSize: current(key) }),
      },
      args.rolloutTimeoutMs,
    );
  },
});
