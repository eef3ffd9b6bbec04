import { Option } from 'commander';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import type { KubePort } from '../kube/port.js';
import { positiveWhole } from './arguments.js';
import { LEASE_RIGHTS, deniedRights, lockTarget } from './lease-lock.js';
import { defineRemediation, kubeScope, type KubeScope, type Plan, type PlanStep, type RemediationSession, type StepOutcome } from './remediation.js';

interface Args {
  to: number;
}

/** Where the pool size lives: a data key, or a dotted path in the YAML document held by a data key. */
interface PoolKey {
  dataKey: string;
  path: string[];
}

interface PoolStep extends PlanStep {
  kind: 'configmap' | 'restart';
  /** The ConfigMap data the patch writes (configmap step). */
  data?: Record<string, string>;
}

/**
 * `fix db-pool-size --to N`: the runbook's "Increase connection pool size in config". Sets the app's
 * pool size in its ConfigMap (name and key from `database.pool`), then restarts the deployment the way
 * `kubectl rollout restart` does so the pods read it. Both writes are validated with a server-side
 * dry run when planning; the ConfigMap's resourceVersion is what re-validation compares.
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
  options: () => [new Option('--to <n>', 'the new pool size (connections per pod)').makeOptionMandatory()],
  examples: ['aegis-ir fix db-pool-size --to 30 --dry-run', 'aegis-ir fix db-pool-size --to 30 --yes'],
  parseArgs: (options) => ({ to: positiveWhole('--to', options.to) }),
  async open(ctx, args) {
    const kube = await ctx.kube();
    return new DbPoolSizeSession(ctx, kube, args);
  },
});

class DbPoolSizeSession implements RemediationSession<PoolStep> {
  readonly target: string;
  readonly scope: KubeScope;
  private readonly configMap: string;
  private readonly key: PoolKey;
  private readonly deployment: string;

  constructor(
    private readonly ctx: Context,
    private readonly kube: KubePort,
    private readonly args: Args,
  ) {
    this.configMap = ctx.config.database.pool.configMap;
    this.key = parsePoolKey(ctx.config.database.pool.key);
    this.deployment = ctx.config.app.deployment;
    this.target = `configmap ${kube.namespace}/${this.configMap}`;
    this.scope = kubeScope(kube);
  }

  async plan(): Promise<Plan<PoolStep>> {
    const map = await this.kube.readConfigMap(this.configMap);
    if (!map) {
      throw new UsageError(`configmap/${this.configMap} does not exist in namespace ${this.kube.namespace}`, 'set database.pool.configMap in the config');
    }
    const text = map.data?.[this.key.dataKey];
    if (text === undefined) {
      throw new UsageError(`configmap/${this.configMap} has no key "${this.key.dataKey}"`, 'set database.pool.key in the config');
    }
    const { current, next } = await rewrite(text, this.key, this.args.to);
    const where = `${this.key.dataKey}${this.key.path.length ? `#${this.key.path.join('.')}` : ''}`;
    const unchanged = current === String(this.args.to);
    const namespace = this.kube.namespace;
    return {
      summary: unchanged
        ? `pool size in configmap/${this.configMap} (${where}) is already ${this.args.to}: nothing to do`
        : `set the pool size in configmap/${this.configMap} (${where}) from ${current ?? 'unset'} to ${this.args.to}, then restart deployment/${this.deployment}`,
      steps: unchanged
        ? []
        : [
            {
              kind: 'configmap',
              data: { [this.key.dataKey]: next },
              description: `patch configmap/${this.configMap} ${where}: ${current ?? 'unset'} → ${this.args.to}`,
              action: diff(text, next, `configmap/${this.configMap} data.${this.key.dataKey}`),
            },
            {
              kind: 'restart',
              description: `rolling restart of deployment/${this.deployment}`,
              action: `kubectl -n ${namespace} rollout restart deployment/${this.deployment}\n  (spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"] = "<time of apply>")`,
            },
          ],
      identity: { resourceVersion: map.metadata?.resourceVersion ?? null, current },
      size: this.args.to,
      ...(this.ctx.config.app.productionNamespaces.includes(namespace) ? { confirmByTyping: namespace } : {}),
      notes: [`raise it only while the database has headroom: replicas × ${this.args.to} must stay below its usable connection limit`],
    };
  }

  /** The rights (SelfSubjectAccessReview), then a server-side dry run of each write: admission gets its say too. */
  async preflight(plan: Plan<PoolStep>): Promise<string[]> {
    const missing = await deniedRights(this.kube, [
      { verb: 'patch', resource: 'configmaps', name: this.configMap },
      { verb: 'patch', resource: 'deployments', group: 'apps', name: this.deployment },
      ...LEASE_RIGHTS,
    ]);
    if (missing.length) return missing;
    for (const step of plan.steps) {
      const outcome = await this.write(step, true);
      if (outcome.status !== 'done') missing.push(`the API server rejected a dry run of "${step.description}": ${outcome.detail}`);
    }
    return missing;
  }

  lock() {
    return lockTarget(this.ctx, this.kube, 'configmap', this.configMap);
  }

  applyStep(step: PoolStep): Promise<StepOutcome> {
    return this.write(step, false);
  }

  private async write(step: PoolStep, dryRun: boolean): Promise<StepOutcome> {
    try {
      if (step.kind === 'configmap') {
        await this.kube.patchConfigMap(this.configMap, step.data ?? {}, { dryRun });
        return { status: 'done', detail: `pool size ${this.args.to}` };
      }
      const at = this.ctx.clock.now().toISOString();
      await this.kube.restartDeployment(this.deployment, at, { dryRun });
      return { status: 'done', detail: `restartedAt ${at}` };
    } catch (error) {
      // At apply the engine reports the error with its exit code (an unreachable cluster is 4).
      if (!dryRun) throw error;
      return { status: 'failed', detail: (error as Error).message };
    }
  }

  async verify() {
    const [map, deployment] = await Promise.all([this.kube.readConfigMap(this.configMap), this.kube.readDeployment(this.deployment)]);
    const { current } = await rewrite(map?.data?.[this.key.dataKey] ?? '', this.key, this.args.to);
    const annotations = deployment?.spec?.template?.metadata?.annotations ?? {};
    const status = deployment?.status;
    return {
      summary:
        `pool size in configmap/${this.configMap} is ${current ?? 'unset'}; deployment/${this.deployment} ` +
        `${status?.updatedReplicas ?? 0} of ${deployment?.spec?.replicas ?? 0} replicas updated, ${status?.readyReplicas ?? 0} ready`,
      findings: [],
      details: {
        poolSize: current,
        restartedAt: annotations['kubectl.kubernetes.io/restartedAt'] ?? null,
        replicas: deployment?.spec?.replicas ?? 0,
        updatedReplicas: status?.updatedReplicas ?? 0,
        readyReplicas: status?.readyReplicas ?? 0,
      },
    };
  }

  async close(): Promise<void> {}
}

/** Reads `DB_POOL_SIZE` or `config.yaml#database.pool_max`. */
export function parsePoolKey(text: string): PoolKey {
  const [dataKey = '', path = ''] = text.split('#', 2);
  return { dataKey, path: path ? path.split('.') : [] };
}

/**
 * The value at the key and the data-key text with the new value set; a YAML document keeps its
 * comments and layout, so the diff shows only the changed line. The YAML library loads here, when a
 * ConfigMap is edited, not with `fix --help`.
 */
export async function rewrite(text: string, key: PoolKey, to: number): Promise<{ current: string | null; next: string }> {
  if (!key.path.length) return { current: text.trim() || null, next: String(to) };
  const { isMap, parseDocument } = await import('yaml');
  const document = parseDocument(text);
  if (document.errors.length || !isMap(document.contents)) {
    throw new UsageError(`data key "${key.dataKey}" is not a YAML mapping, so ${key.path.join('.')} cannot be set in it`);
  }
  const current = document.getIn(key.path);
  document.setIn(key.path, to);
  return { current: current === undefined || current === null ? null : String(current), next: document.toString() };
}

/** A minimal unified diff of the lines that differ. */
function diff(before: string, after: string, label: string): string {
  const a = before.split('\n');
  const b = after.split('\n');
  const lines = [`--- ${label}`, `+++ ${label}`];
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    if (a[i] === b[i]) continue;
    if (a[i] !== undefined) lines.push(`-${a[i]}`);
    if (b[i] !== undefined) lines.push(`+${b[i]}`);
  }
  return lines.join('\n');
}
