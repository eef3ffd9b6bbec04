import { Option } from 'commander';
import { podHealthCheck } from '../checks/kubernetes/pod-health.js';
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
 * `fix db-pool-size --to N`: the runbook's "Increase connection pool size in config". Sets the app's
 * pool size in its ConfigMap (name and key from `database.pool`), edited in place so nothing else in
 * the file changes, then restarts the deployment the way `kubectl rollout restart` does so the pods
 * read it, and waits for the rollout (see {@link ConfigMapRolloutSession} for the guards).
 */
export const dbPoolSizeRemediation = defineRemediation<Args>({
  id: 'db-pool-size',
  summary: "Set the app's database connection pool size in its ConfigMap, then rolling-restart it",
  description:
    'Changes the pool size key (database.pool.configMap / database.pool.key in the config) to --to N through the\n' +
    'Kubernetes API, validated by a server-side dry run, then restarts the deployment so its pods pick it up.\n' +
    'Raise it only while the database has headroom: replicas × pool size must stay below the usable connection limit\n' +
    '(aegis-ir diagnose db-connections shows it).',
  risk: 'medium',
  anchor: 'issue-database-connection-failures',
  cap: { unit: 'connections per pod', default: 100 },
  options: () => [new Option('--to <n>', 'the new pool size (connections per pod)').makeOptionMandatory(), rolloutTimeoutOption()],
  examples: ['aegis-ir fix db-pool-size --to 30 --dry-run', 'aegis-ir fix db-pool-size --to 30 --yes'],
  parseArgs: (options) => ({ to: positiveWhole('--to', options.to), rolloutTimeoutMs: rolloutTimeoutOf(options) }),
  checks: async () => [podHealthCheck],
  async open(ctx, args) {
    const [kube, { parseConfigKey }] = await Promise.all([ctx.kube(), import('../kube/config-document.js')]);
    const key: ConfigKey = parseConfigKey(ctx.config.database.pool.key);
    return new ConfigMapRolloutSession(
      ctx,
      kube,
      {
        configMap: ctx.config.database.pool.configMap,
        configMapKey: 'database.pool.configMap',
        plan: (current) => ({
          summary: `set the pool size in configmap/${ctx.config.database.pool.configMap} from ${current(key) ?? 'unset'} to ${args.to}`,
          changes: [{ key, value: args.to, label: 'pool size' }],
          size: args.to,
          notes: [`raise it only while the database has headroom: replicas × ${args.to} must stay below its usable connection limit`],
        }),
        verifyWith: [podHealthCheck],
        verifyDetails: (current) => ({ poolSize: current(key) }),
      },
      args.rolloutTimeoutMs,
    );
  },
});
