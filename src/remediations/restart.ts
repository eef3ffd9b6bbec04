import type { PodMetric, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { Option } from 'commander';
import { isPodReady } from '../checks/kubernetes/pod-health.js';
import { appContainerName, controllerOf, deploymentNotFound, ownedReplicaSets } from '../checks/kubernetes/snapshot.js';
import { memoryUsageCheck } from '../checks/memory/memory-usage.js';
import { oomHistoryCheck } from '../checks/memory/oom-history.js';
import type { Context } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import type { Finding } from '../core/findings.js';
import type { KubePort } from '../kube/port.js';
import { formatBytes, parseQuantity } from '../kube/quantity.js';
import { LEASE_RIGHTS, deniedRights, lockTarget } from './lease-lock.js';
import { defineRemediation, type Plan, type PlanStep, type RemediationSession, type StepOutcome, type Verification } from './remediation.js';
import { WorkloadPatchSession, objectIdentity, rolloutTimeoutOf, rolloutTimeoutOption, type WorkloadPlan } from './workload-patch.js';

/** How often a refused eviction is retried, and a replacement's readiness polled. */
const POLL_MS = 1000;

/** Which pods to restart: named, the OOMKilled ones, those above a share of their limit, or (default) either of the last two. */
export interface RestartArgs {
  pods: string[] | null;
  oom: boolean;
  overLimitShare: number | null;
  rolling: boolean;
  rolloutTimeoutMs: number;
}

interface RestartStep extends PlanStep {
  pod: string;
}

/** One pod the plan restarts, and why. */
interface Target {
  pod: V1Pod;
  name: string;
  uid: string;
  reason: string;
  share: number | null;
  usage: number | null;
  limit: number | null;
}

/**
 * `fix restart [--pods A,B | --oom | --over-limit-share F] | --rolling`: the runbook's "Restart
 * affected pods (temporary)". Evicts the chosen pods one at a time through the Eviction API — never
 * DELETE — so PodDisruptionBudgets hold: a refusal (429) is waited out and retried until
 * `--rollout-timeout`, and each replacement must be Ready before the next pod goes. By default the
 * pods OOMKilled within `triage.restartWindow` or at `thresholds.memoryOfLimit` of their limit, most
 * urgent first; at most 3 (`--max`). `--rolling` restarts the whole deployment instead, as
 * `kubectl rollout restart` does. Verified by the memory checks afterwards.
 */
export const restartRemediation = defineRemediation<RestartArgs>({
  id: 'restart',
  summary: 'Restart the pods OOMKilled or near their memory limit, one at a time through the Eviction API',
  description:
    'Evicts each chosen pod (PodDisruptionBudgets hold: a refusal is waited on and retried), waits for its\n' +
    'replacement to be Ready, then moves to the next. Pods are never deleted directly. Default selection: pods\n' +
    'OOMKilled recently or at thresholds.memoryOfLimit of their limit. A restart is temporary: a leak comes back,\n' +
    'so follow it with the lead from aegis-ir diagnose memory.',
  risk: 'medium',
  anchor: 'issue-high-memory-usage',
  cap: { unit: 'pods', default: 3 },
  options: () => [
    new Option('--pods <names>', 'restart these pods (comma-separated)').conflicts(['oom', 'overLimitShare', 'rolling']),
    new Option('--oom', 'restart the pods OOMKilled within triage.restartWindow').conflicts(['overLimitShare', 'rolling']),
    new Option('--over-limit-share <f>', 'restart the pods using at least this share of their memory limit (e.g. 0.85)').conflicts('rolling'),
    new Option('--rolling', 'restart the whole deployment instead, as kubectl rollout restart does'),
    rolloutTimeoutOption(),
  ],
  examples: ['aegis-ir fix restart --dry-run', 'aegis-ir fix restart --oom --yes', 'aegis-ir fix restart --pods aegis-api-7d9f-x2k4p --yes', 'aegis-ir fix restart --rolling --dry-run'],
  parseArgs(options) {
    const share = options.overLimitShare === undefined ? null : Number(options.overLimitShare);
    if (share !== null && !(share > 0 && share <= 1)) {
      throw new UsageError(`--over-limit-share ${String(options.overLimitShare)} is not valid; expected a share above 0 and at most 1, such as 0.85`);
    }
    const pods = options.pods === undefined ? null : String(options.pods).split(',').map((p) => p.trim()).filter(Boolean);
    if (pods !== null && pods.length === 0) throw new UsageError('--pods names no pod; expected names separated by commas', 'kubectl get pods -n <namespace>');
    return { pods, oom: Boolean(options.oom), overLimitShare: share, rolling: Boolean(options.rolling), rolloutTimeoutMs: rolloutTimeoutOf(options) };
  },
  async open(ctx, args) {
    const kube = await ctx.kube();
    if (args.rolling) {
      const remediation = { plan: (_k: KubePort, d: V1Deployment) => Promise.resolve(planRollingRestart(d, ctx.clock.now())), verifyWith: [memoryUsageCheck, oomHistoryCheck] };
      return new WorkloadPatchSession(ctx, kube, remediation, args.rolloutTimeoutMs);
    }
    return new EvictionSession(ctx, kube, args);
  },
});

/** `kubectl rollout restart`: a new `restartedAt` in the pod template replaces every pod by the rollout. */
export function planRollingRestart(deployment: V1Deployment, now: Date): WorkloadPlan {
  const name = deployment.metadata?.name ?? '';
  const replicas = deployment.spec?.replicas ?? 1;
  const at = now.toISOString();
  return {
    summary: `restart every pod of deployment/${name} by a rolling update (${replicas} replicas)`,
    changes: [
      {
        kind: 'deployment',
        current: deployment,
        patch: { type: 'strategic-merge', body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } } },
        description: `stamp the pod template of deployment/${name} with kubectl.kubernetes.io/restartedAt`,
      },
    ],
    goal: { kind: 'rollout' },
    identity: { deployment: objectIdentity(deployment, deployment.spec?.template) },
    size: replicas,
    notes: ['a restart is temporary: a leak comes back; aegis-ir diagnose memory names the lead'],
  };
}

class EvictionSession implements RemediationSession<RestartStep> {
  readonly target: string;

  constructor(
    private readonly ctx: Context,
    private readonly kube: KubePort,
    private readonly args: RestartArgs,
  ) {
    this.target = `deployment ${kube.namespace}/${ctx.config.app.deployment}`;
  }

  async plan(): Promise<Plan<RestartStep>> {
    const { deployment: name, selector } = this.ctx.config.app;
    const [deployment, pods, metrics] = await Promise.all([
      this.kube.readDeployment(name, this.ctx.signal),
      this.kube.listPods(selector, this.ctx.signal),
      this.kube.listPodMetrics(this.ctx.signal),
    ]);
    if (!deployment) throw await deploymentNotFound(this.kube, name, this.ctx.signal);
    // The deployment's own pods: a canary or another workload sharing the selector is not restarted under its lock.
    const owned = new Set((await ownedReplicaSets(this.kube, deployment, this.ctx.signal)).map((rs) => rs.metadata?.uid));
    const live = pods.filter((p) => !p.metadata?.deletionTimestamp && owned.has(controllerOf(p)?.uid));
    const targets = chooseTargets(live, metrics, this.args, this.ctx);
    const namespace = this.kube.namespace;
    const steps = targets.map((t): RestartStep => ({
      pod: t.name,
      description: `evict pod/${t.name} (${t.reason}) and wait for its replacement to be Ready`,
      action: `POST /api/v1/namespaces/${namespace}/pods/${t.name}/eviction  (policy/v1 Eviction; a disruption budget's refusal is retried until ${formatDuration(this.args.rolloutTimeoutMs)})`,
    }));
    const notes = ['a restart is temporary: a leak comes back; aegis-ir diagnose memory names the lead'];
    // The API server's own answer, now, without evicting: a budget that refuses now will be waited on.
    for (const t of targets) {
      // Without the right to evict, even the dry run is refused; the preflight names the missing right.
      const trial = await this.kube.evictPod(t.name, { dryRun: true }, this.ctx.signal).catch((error: unknown) => ({ evicted: false, blocked: (error as Error).message }) as const);
      if (!trial.evicted) notes.push(`pod/${t.name} cannot be evicted right now: ${trial.blocked}; applying waits for it`);
    }
    const what = this.args.pods ? 'the named pods' : this.args.oom ? 'pods OOMKilled recently' : this.args.overLimitShare !== null ? `pods at ${Math.round(this.args.overLimitShare * 100)}% of their memory limit or more` : 'pods OOMKilled recently or near their memory limit';
    return {
      summary: targets.length
        ? `restart ${targets.length} of ${live.length} pod(s) of deployment/${this.ctx.config.app.deployment}, one at a time (${what})`
        : `no ${what} among the ${live.length} pod(s) of deployment/${this.ctx.config.app.deployment}: nothing to do`,
      steps,
      table: {
        columns: ['pod', 'ready', 'memory', 'limit', 'share', 'reason'],
        rows: targets.map((t) => ({
          pod: t.name,
          ready: isPodReady(t.pod) ? 'yes' : 'no',
          memory: t.usage === null ? null : formatBytes(t.usage),
          limit: t.limit === null ? null : formatBytes(t.limit),
          share: t.share === null ? null : `${Math.round(t.share * 100)}%`,
          reason: t.reason,
        })),
      },
      identity: targets.map((t) => ({ pod: t.name, uid: t.uid })),
      size: targets.length,
      ...(this.ctx.config.app.productionNamespaces.includes(namespace) ? { confirmByTyping: namespace } : {}),
      notes,
    };
  }

  preflight(): Promise<string[]> {
    return deniedRights(this.kube, this.ctx.signal, [
      { verb: 'get', resource: 'deployments', group: 'apps' },
      { verb: 'list', resource: 'replicasets', group: 'apps' },
      { verb: 'list', resource: 'pods' },
      { verb: 'create', resource: 'pods', subresource: 'eviction' },
      ...LEASE_RIGHTS,
    ]);
  }

  lock() {
    return lockTarget(this.ctx, this.kube, 'deployment', this.ctx.config.app.deployment);
  }

  /** Evicts one pod, waiting out disruption-budget refusals, then waits for its replacement to be Ready. */
  async applyStep(step: RestartStep): Promise<StepOutcome> {
    const deadline = Date.now() + this.args.rolloutTimeoutMs;
    const before = await this.kube.listPods(this.ctx.config.app.selector, this.ctx.signal);
    const pod = before.find((p) => p.metadata?.name === step.pod);
    if (!pod || pod.metadata?.deletionTimestamp) return { status: 'skipped', detail: `pod/${step.pod} is already gone` };
    const owner = controllerOf(pod)?.uid;
    const known = new Set(before.map((p) => p.metadata?.name));
    const progress = this.ctx.progress(`evicting pod/${step.pod}…`);
    const started = Date.now();
    try {
      let refusals = 0;
      let refusal = '';
      for (;;) {
        const answer = await this.kube.evictPod(step.pod, { dryRun: false }, this.ctx.signal);
        if (answer.evicted) break;
        refusals += 1;
        refusal = answer.blocked;
        progress.update(`pod/${step.pod}: ${refusal}; retrying (${refusals})…`);
        if (this.ctx.signal.aborted) return { status: 'failed', detail: `stopped waiting for the disruption budget (cancelled): ${refusal}` };
        if (Date.now() + POLL_MS >= deadline) {
          return { status: 'failed', detail: `the disruption budget still refused after ${formatDuration(this.args.rolloutTimeoutMs)}: ${refusal}` };
        }
        await pause(POLL_MS);
      }
      const waited = refusals ? `evicted after ${refusals} disruption-budget refusal(s) over ${formatDuration(Date.now() - started)} (${refusal})` : 'evicted';
      const evictedAt = Date.now();
      for (;;) {
        const now = await this.kube.listPods(this.ctx.config.app.selector, this.ctx.signal);
        const replacement = now.find((p) => !known.has(p.metadata?.name) && p.metadata?.ownerReferences?.some((r) => r.uid === owner) && isPodReady(p));
        if (replacement) {
          return { status: 'done', detail: `${waited}; replaced by pod/${replacement.metadata?.name}, Ready after ${formatDuration(Date.now() - evictedAt)}` };
        }
        progress.update(`pod/${step.pod} evicted; waiting for its replacement to be Ready…`);
        if (this.ctx.signal.aborted) return { status: 'failed', detail: `${waited}; stopped waiting for the replacement (cancelled)` };
        if (Date.now() >= deadline) return { status: 'failed', detail: `${waited}; no Ready replacement after ${formatDuration(this.args.rolloutTimeoutMs)}` };
        await pause(POLL_MS);
      }
    } finally {
      progress.stop();
    }
  }

  async verify(): Promise<Verification> {
    const now = this.ctx.clock.now();
    const findings: Finding[] = [];
    for (const check of [memoryUsageCheck, oomHistoryCheck]) {
      findings.push(...check.evaluate(await check.collect(this.ctx), { config: this.ctx.config, now }));
    }
    const pods = (await this.kube.listPods(this.ctx.config.app.selector, this.ctx.signal)).filter((p) => !p.metadata?.deletionTimestamp);
    const ready = pods.filter(isPodReady).length;
    const serious = findings.filter((f) => f.severity !== null);
    return {
      summary: `${ready} of ${pods.length} pods Ready; memory-usage, oom-history: ${serious.length ? `${serious.length} finding(s)` : 'ok'}`,
      findings: serious,
      details: { ready, pods: pods.length },
    };
  }

  async close(): Promise<void> {}
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The pods the arguments choose, most urgent (highest share of the limit) first. */
function chooseTargets(pods: V1Pod[], metrics: PodMetric[] | null, args: RestartArgs, ctx: Context): Target[] {
  const windowStart = ctx.clock.now().getTime() - ctx.config.triage.restartWindow;
  const threshold = args.overLimitShare ?? ctx.config.thresholds.memoryOfLimit;
  if (args.pods) {
    const names = pods.map((p) => p.metadata?.name ?? '');
    const unknown = args.pods.filter((p) => !names.includes(p));
    if (unknown.length) {
      throw new UsageError(
        `--pods ${unknown.join(',')}: not a pod of deployment/${ctx.config.app.deployment} in namespace ${ctx.config.namespace}; it has ${names.join(', ') || 'none'}`,
        `kubectl get pods -n ${ctx.config.namespace} -l ${ctx.config.app.selector}`,
      );
    }
  }
  const targets: Target[] = [];
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    const app = appContainerName(pod, ctx.config.app);
    const usage = parseQuantity(metrics?.find((m) => m.metadata.name === name)?.containers.find((c) => c.name === app)?.usage.memory) ?? null;
    const limit = parseQuantity(pod.spec?.containers?.find((c) => c.name === app)?.resources?.limits?.memory) ?? null;
    const share = usage !== null && limit ? usage / limit : null;
    const oom = (pod.status?.containerStatuses ?? []).find((s) => {
      const last = s.lastState?.terminated;
      return last?.reason === 'OOMKilled' && ((last.finishedAt && new Date(last.finishedAt).getTime() >= windowStart) || s.state?.waiting?.reason === 'CrashLoopBackOff');
    });
    const over = share !== null && share >= threshold;
    const reasons = [
      ...(args.pods?.includes(name) ? ['named'] : []),
      ...(oom && !args.pods && args.overLimitShare === null ? [`OOMKilled ${formatDuration(ctx.clock.now().getTime() - new Date(oom.lastState?.terminated?.finishedAt ?? 0).getTime())} ago`] : []),
      ...(over && !args.pods && !args.oom ? [`${Math.round((share as number) * 100)}% of its memory limit`] : []),
    ];
    if (reasons.length) targets.push({ pod, name, uid: pod.metadata?.uid ?? '', reason: reasons.join(', '), share, usage, limit });
  }
  return targets.sort((a, b) => (b.share ?? -1) - (a.share ?? -1) || a.name.localeCompare(b.name));
}
