import type { V1ConfigMap } from '@kubernetes/client-node';
import type { Check } from '../checks/check.js';
import { deploymentNotFound } from '../checks/kubernetes/snapshot.js';
import type { Context } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import type { ConfigKey, ConfigValue } from '../kube/config-document.js';
import type { KubePort } from '../kube/port.js';
import { LEASE_RIGHTS, deniedRights, lockTarget } from './lease-lock.js';
import type { Replaced } from './replaced.js';
import { kubeScope, type KubeScope, type LockAttempt, type Plan, type PlanStep, type RemediationSession, type StepOutcome, type Verification } from './remediation.js';
import { goalText, objectDiff, objectIdentity, verifyByChecks, waitForRollout } from './workload-patch.js';

/** One app setting to change: where it lives, its new value, and how people call it. */
export interface SettingChange {
  key: ConfigKey;
  value: ConfigValue;
  /** "AI fallback provider", "pool size". */
  label: string;
}

/** Reads the ConfigMap's current settings, for a remediation deciding what to change. */
export type SettingReader = (key: ConfigKey) => string | null;

/** What a ConfigMap remediation decides from the current settings. */
export interface SettingsPlan {
  summary: string;
  /** Settings to change; those already at their value are dropped, and none left means nothing to do. */
  changes: SettingChange[];
  /**
   * Whole data keys to write as given, byte for byte (null: remove the key): what a revert restores. Those
   * already so are dropped.
   */
  texts?: Array<{ dataKey: string; text: string | null; label: string }>;
  /** What the safety cap limits. */
  size: number;
  notes: string[];
}

/**
 * What a remediation plugs into {@link ConfigMapRolloutSession}: the ConfigMap holding the app's
 * settings, how to decide the changes from what it holds now, and the checks that verify the result.
 */
export interface ConfigMapRemediation {
  configMap: string;
  /** The config key naming the ConfigMap, for the error when it does not exist: `aiProvider.configMap`. */
  configMapKey?: string;
  plan(current: SettingReader, configMap: V1ConfigMap): SettingsPlan | Promise<SettingsPlan>;
  verifyWith: readonly Check[];
  /** The settings as they read after apply, shown with the verification (`{ poolSize: "40" }`). */
  verifyDetails?(current: SettingReader): Record<string, unknown>;
}

interface ConfigStep extends PlanStep {
  kind: 'configmap' | 'restart' | 'wait';
  /** The data keys the ConfigMap patch writes, whole (null: removes), and what they held (configmap step). */
  data?: Record<string, { before: string | null; after: string | null }>;
}

/**
 * The shared "change the app's config, then roll it" remediation: the settings are edited in the
 * ConfigMap's YAML in place (comments, order and every untouched byte stay identical), the change
 * and the restart (`kubectl.kubernetes.io/restartedAt` on the pod template, as `kubectl rollout
 * restart` does) are shown as diffs of server-side dry runs, both objects are locked with Leases, the
 * plan is re-derived and compared at apply (the ConfigMap's keys and the deployment's template),
 * every write is audited with what it replaced (for `fix revert`), the rollout is waited for, and the
 * remediation's checks verify the result.
 */
export class ConfigMapRolloutSession implements RemediationSession<ConfigStep> {
  readonly target: string;
  readonly scope: KubeScope;
  private readonly deployment: string;

  constructor(
    private readonly ctx: Context,
    private readonly kube: KubePort,
    private readonly remediation: ConfigMapRemediation,
    private readonly rolloutTimeoutMs: number,
  ) {
    this.deployment = ctx.config.app.deployment;
    this.target = `configmap ${kube.namespace}/${remediation.configMap} and deployment ${kube.namespace}/${this.deployment}`;
    this.scope = kubeScope(kube);
  }

  async plan(): Promise<Plan<ConfigStep>> {
    const { readConfigValue, setConfigValue, lineDiff, configKeyText } = await import('../kube/config-document.js');
    const { configMap: name, configMapKey } = this.remediation;
    const [map, deployment] = await Promise.all([this.kube.readConfigMap(name, this.ctx.signal), this.kube.readDeployment(this.deployment, this.ctx.signal)]);
    if (!map) throw new UsageError(`configmap/${name} does not exist in namespace ${this.kube.namespace}`, `${configMapKey ? `set ${configMapKey} in the config, or ` : ''}pass -n NAMESPACE`);
    if (!deployment) throw await deploymentNotFound(this.kube, this.deployment, this.ctx.signal);
    const planned = await this.remediation.plan((key) => readConfigValue(map.data, key), map);
    const data: Record<string, { before: string | null; after: string | null }> = {};
    const described: string[] = [];
    for (const restore of planned.texts ?? []) {
      const now = map.data?.[restore.dataKey] ?? null;
      if (now === restore.text) continue;
      data[restore.dataKey] = { before: now, after: restore.text };
      described.push(restore.label);
    }
    for (const change of planned.changes) {
      const before = data[change.key.dataKey]?.after ?? map.data?.[change.key.dataKey] ?? null;
      const current = readConfigValue(map.data, change.key);
      if (current === String(change.value)) continue;
      const after = setConfigValue(before ?? '', change.key.path, change.value);
      data[change.key.dataKey] = { before: map.data?.[change.key.dataKey] ?? null, after };
      described.push(`${change.label} (${configKeyText(change.key)}) ${current === null || current === '' ? 'unset' : current} → ${String(change.value)}`);
    }
    const steps: ConfigStep[] = [];
    if (Object.keys(data).length) {
      const allowed = !(await this.missing()).length;
      const validated = allowed ? await this.kube.patchConfigMap(name, afterData(data), { dryRun: true }, this.ctx.signal) : null;
      const diffs = Object.entries(data).map(([key, { before, after }]) =>
        lineDiff(before ?? '', validated?.data?.[key] ?? after ?? '', `configmap/${name} data.${key}`, validated ? 'after, server-side dry run' : 'after; not validated: no right to patch it'),
      );
      steps.push({ kind: 'configmap', description: `patch configmap/${name}: ${described.join('; ')}`, action: diffs.join('\n'), data });
      const restart = `rolling restart of deployment/${this.deployment}, so its pods read the new settings`;
      const at = this.ctx.clock.now().toISOString();
      steps.push({
        kind: 'restart',
        description: restart,
        action: allowed
          ? objectDiff(deployment, await this.kube.restartDeployment(this.deployment, at, { dryRun: true }, this.ctx.signal), `deployment/${this.deployment}`)
          : `kubectl -n ${this.kube.namespace} rollout restart deployment/${this.deployment}`,
      });
      steps.push({
        kind: 'wait',
        description: `wait up to ${formatDuration(this.rolloutTimeoutMs)} for ${goalText({ kind: 'rollout' }, this.deployment)}`,
        action: `kubectl -n ${this.kube.namespace} rollout status deployment/${this.deployment}`,
      });
    }
    const namespace = this.kube.namespace;
    return {
      summary: steps.length ? `${planned.summary}, then restart deployment/${this.deployment}` : `${planned.summary}: already so, nothing to do`,
      steps,
      identity: {
        configMap: objectIdentity(map, Object.fromEntries(Object.keys(data).map((key) => [key, map.data?.[key] ?? null]))),
        deployment: objectIdentity(deployment, deployment.spec?.template),
        data: afterData(data),
      },
      size: planned.size,
      ...(this.ctx.config.app.productionNamespaces.includes(namespace) ? { confirmByTyping: namespace } : {}),
      notes: planned.notes,
    };
  }

  async preflight(): Promise<string[]> {
    return this.missing();
  }

  /** SelfSubjectAccessReviews for the writes and the locks; the ones denied, for people. */
  private missing(): Promise<string[]> {
    return deniedRights(this.kube, this.ctx.signal, [
      { verb: 'get', resource: 'configmaps', name: this.remediation.configMap },
      { verb: 'patch', resource: 'configmaps', name: this.remediation.configMap },
      { verb: 'get', resource: 'deployments', group: 'apps', name: this.deployment },
      { verb: 'patch', resource: 'deployments', group: 'apps', name: this.deployment },
      ...LEASE_RIGHTS,
    ]);
  }

  /** Both objects are locked: another remediation of the ConfigMap or of the deployment excludes this one. */
  lock(): Promise<LockAttempt> {
    return lockBoth(
      () => lockTarget(this.ctx, this.kube, 'configmap', this.remediation.configMap),
      () => lockTarget(this.ctx, this.kube, 'deployment', this.deployment),
    );
  }

  async applyStep(step: ConfigStep): Promise<StepOutcome> {
    if (step.kind === 'configmap' && step.data) {
      const stored = await this.kube.patchConfigMap(this.remediation.configMap, afterData(step.data), { dryRun: false }, this.ctx.signal);
      const replaced: Replaced = {
        kind: 'configmap',
        namespace: this.kube.namespace,
        name: this.remediation.configMap,
        deployment: this.deployment,
        data: Object.fromEntries(Object.entries(step.data).map(([key, d]) => [key, { before: d.before, after: stored.data?.[key] ?? d.after }])),
      };
      return { status: 'done', detail: `resourceVersion ${stored.metadata?.resourceVersion ?? '?'}`, replaced };
    }
    if (step.kind === 'restart') {
      const at = this.ctx.clock.now().toISOString();
      await this.kube.restartDeployment(this.deployment, at, { dryRun: false }, this.ctx.signal);
      return { status: 'done', detail: `restartedAt ${at}` };
    }
    return waitForRollout(this.ctx, this.kube, { kind: 'rollout' }, this.rolloutTimeoutMs);
  }

  async verify(): Promise<Verification> {
    const { readConfigValue } = await import('../kube/config-document.js');
    const verification = await verifyByChecks(this.ctx, this.kube, this.remediation.verifyWith);
    const [map, deployment] = await Promise.all([
      this.kube.readConfigMap(this.remediation.configMap, this.ctx.signal),
      this.kube.readDeployment(this.deployment, this.ctx.signal),
    ]);
    const settings = this.remediation.verifyDetails?.((key) => readConfigValue(map?.data, key)) ?? {};
    const restartedAt = deployment?.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'] ?? null;
    return { ...verification, details: { ...verification.details, ...settings, restartedAt } };
  }

  async close(): Promise<void> {}
}

function afterData(data: Record<string, { after: string | null }>): Record<string, string | null> {
  return Object.fromEntries(Object.entries(data).map(([key, d]) => [key, d.after]));
}

/** Takes two locks in order; when the second is held, the first is given back and its holder named. */
export async function lockBoth(first: () => Promise<LockAttempt>, second: () => Promise<LockAttempt>): Promise<LockAttempt> {
  const a = await first();
  if (!a.acquired) return a;
  const b = await second().catch(async (error: unknown) => {
    await a.release();
    throw error;
  });
  if (!b.acquired) {
    await a.release();
    return b;
  }
  const every = [a.renewEveryMs, b.renewEveryMs].filter((ms): ms is number => ms !== undefined);
  return {
    acquired: true,
    release: async () => {
      const failed = (await Promise.allSettled([b.release(), a.release()])).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    ...(a.renew || b.renew ? { renew: async () => (await a.renew?.()) ?? (await b.renew?.()) ?? null } : {}),
    ...(every.length ? { renewEveryMs: Math.min(...every) } : {}),
  };
}
