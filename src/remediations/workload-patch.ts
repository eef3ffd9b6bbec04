import type { V1Deployment, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { Option } from 'commander';
import type { Check } from '../checks/check.js';
import { deploymentNotFound, forOneRun } from '../checks/kubernetes/snapshot.js';
import type { Context } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import { positiveDuration } from './arguments.js';
import type { Finding } from '../core/findings.js';
import type { AccessCheck, KubePort, ObjectPatch } from '../kube/port.js';
import { LEASE_RIGHTS, deniedRights, lockTarget } from './lease-lock.js';
import { pointerKey, replacedParts, type Replaced } from './replaced.js';
import { kubeScope, type KubeScope, type Plan, type PlanStep, type RemediationSession, type StepOutcome, type Verification } from './remediation.js';

/** How often the rollout is polled while waiting. */
const POLL_MS = 500;

/** One object write of a plan, with the object as it is now (for the diff). */
export type ObjectChange =
  | { kind: 'deployment'; current: V1Deployment; patch: ObjectPatch; description: string }
  | { kind: 'horizontalpodautoscaler'; current: V2HorizontalPodAutoscaler; patch: ObjectPatch; description: string };

/** What the deployment must reach after the writes for the change to have taken. */
export type RolloutGoal = { kind: 'rollout' } | { kind: 'replicas'; replicas: number };

/** A Kubernetes remediation's plan before the session adds diffs, the wait and the guards' fields. */
export interface WorkloadPlan {
  summary: string;
  /** Empty when there is nothing to do. */
  changes: ObjectChange[];
  goal: RolloutGoal;
  /** What re-validation compares ({@link objectIdentity} of what is changed, the revision rolled back to). */
  identity: unknown;
  size: number;
  notes: string[];
}

/** What a workload remediation plugs into the session: how it plans and which checks verify it. */
export interface WorkloadRemediation {
  plan(kube: KubePort, deployment: V1Deployment, signal: AbortSignal): Promise<WorkloadPlan>;
  /** The checks run again after apply; their findings are the verification. */
  verifyWith: readonly Check[];
}

interface WorkloadStep extends PlanStep {
  change: ObjectChange | null;
}

/**
 * What re-validation compares of a Kubernetes object: the same object (uid) with the same `spec` part
 * the plan was derived from. Not its resourceVersion, which every status write bumps (an HPA's at each
 * sync, a deployment's whenever a pod turns ready or not): on a live cluster the plan would never hold.
 */
export function objectIdentity(object: { metadata?: { uid?: string } }, specPart: unknown): unknown {
  return { uid: object.metadata?.uid ?? null, spec: specPart ?? null };
}

/** `--rollout-timeout`, shared by every remediation that changes the deployment. */
export function rolloutTimeoutOption(): Option {
  return new Option('--rollout-timeout <duration>', 'how long to wait for the rollout after applying (default 5m)');
}

/** Reads `--rollout-timeout` in milliseconds. */
export function rolloutTimeoutOf(options: Record<string, unknown>): number {
  return positiveDuration('--rollout-timeout', options.rolloutTimeout, '5m');
}

/**
 * The session of every Kubernetes workload remediation (scale, memory limit, rollback): plans through
 * a server-side dry run of each write (`dryRun=All`) and shows the diff between the object now and
 * what the API server would store; preflights every verb with SelfSubjectAccessReviews; locks the
 * deployment with a Lease; applies the writes, then waits for the rollout with progress; verifies by
 * running the relevant checks again.
 */
export class WorkloadPatchSession implements RemediationSession<WorkloadStep> {
  readonly target: string;
  readonly scope: KubeScope;

  constructor(
    private readonly ctx: Context,
    private readonly kube: KubePort,
    private readonly remediation: WorkloadRemediation,
    private readonly rolloutTimeoutMs: number,
    private goal: RolloutGoal = { kind: 'rollout' },
  ) {
    this.target = `deployment ${kube.namespace}/${ctx.config.app.deployment}`;
    this.scope = kubeScope(kube);
  }

  async plan(): Promise<Plan<WorkloadStep>> {
    const name = this.ctx.config.app.deployment;
    const deployment = await this.kube.readDeployment(name, this.ctx.signal);
    if (!deployment) throw await deploymentNotFound(this.kube, name, this.ctx.signal);
    const planned = await this.remediation.plan(this.kube, deployment, this.ctx.signal);
    this.goal = planned.goal;
    const steps: WorkloadStep[] = [];
    for (const change of planned.changes) {
      const label = `${change.kind}/${change.current.metadata?.name}`;
      // Without the right to patch, the server refuses even the dry run; show the patch itself and
      // let the preflight refuse the run with the missing right named.
      const action = (await this.missing([change])).length
        ? `${change.patch.type} patch of ${label} (not validated: no right to patch it):\n${JSON.stringify(change.patch.body, null, 2)}`
        : objectDiff(change.current, await this.write(change, true), label);
      steps.push({ description: change.description, action, change });
    }
    if (steps.length) {
      steps.push({ description: `wait up to ${formatDuration(this.rolloutTimeoutMs)} for ${goalText(planned.goal, name)}`, action: `kubectl -n ${this.kube.namespace} rollout status deployment/${name}`, change: null });
    }
    const namespace = this.kube.namespace;
    return {
      summary: planned.summary,
      steps,
      identity: planned.identity,
      size: planned.size,
      ...(this.ctx.config.app.productionNamespaces.includes(namespace) ? { confirmByTyping: namespace } : {}),
      notes: planned.notes,
    };
  }

  preflight(plan: Plan<WorkloadStep>): Promise<string[]> {
    return this.missing(plan.steps.flatMap((s) => (s.change ? [s.change] : [])));
  }

  /** SelfSubjectAccessReviews for every verb the changes need, lock included; the ones denied, for people. */
  private async missing(changes: ObjectChange[]): Promise<string[]> {
    return deniedRights(this.kube, this.ctx.signal, [
      { verb: 'get', resource: 'deployments', group: 'apps' },
      ...LEASE_RIGHTS,
      ...changes.map((change): AccessCheck => {
        const name = change.current.metadata?.name;
        return change.kind === 'deployment'
          ? { verb: 'patch', resource: 'deployments', group: 'apps', name }
          : { verb: 'patch', resource: 'horizontalpodautoscalers', group: 'autoscaling', name };
      }),
    ]);
  }

  lock() {
    return lockTarget(this.ctx, this.kube, 'deployment', this.ctx.config.app.deployment);
  }

  async applyStep(step: WorkloadStep): Promise<StepOutcome> {
    if (step.change) {
      const { change } = step;
      const after = await this.write(change, false);
      const replaced: Replaced = {
        kind: change.kind,
        namespace: this.kube.namespace,
        name: change.current.metadata?.name ?? '',
        parts: replacedParts(change.current, after, patchedPointers(change.patch)),
      };
      return { status: 'done', detail: `resourceVersion ${after.metadata?.resourceVersion ?? '?'}`, replaced };
    }
    return waitForRollout(this.ctx, this.kube, this.goal, this.rolloutTimeoutMs);
  }

  verify(): Promise<Verification> {
    return verifyByChecks(this.ctx, this.kube, this.remediation.verifyWith);
  }

  async close(): Promise<void> {}

  private write(change: ObjectChange, dryRun: boolean): Promise<V1Deployment | V2HorizontalPodAutoscaler> {
    const name = change.current.metadata?.name ?? '';
    return change.kind === 'deployment'
      ? this.kube.patchDeployment(name, change.patch, { dryRun }, this.ctx.signal)
      : this.kube.patchHorizontalPodAutoscaler(name, change.patch, { dryRun }, this.ctx.signal);
  }

}

/** The spec fields a patch writes, as JSON pointers: what a revert restores (annotations stay as the change left them). */
function patchedPointers(patch: ObjectPatch): string[] {
  if (patch.type === 'json') {
    // An annotation is recorded key by key (a rollback's change-cause and rolled-back-from), never as the whole
    // map: the controller writes its own annotations there, and a revert gives back only what the change wrote.
    const paths = patch.body.flatMap((op) =>
      op.path === '/metadata/annotations' && 'value' in op && op.value && typeof op.value === 'object'
        ? Object.keys(op.value).map((key) => `/metadata/annotations/${pointerKey(key)}`)
        : [op.path],
    );
    return [...new Set(paths.filter((path) => path.startsWith('/spec/') || path.startsWith('/metadata/annotations/')))];
  }
  return Object.keys((patch.body as { spec?: object }).spec ?? {}).map((key) => `/spec/${key}`);
}

/**
 * Runs `checks` again after a change (each on a fresh snapshot of the workload) and reports their
 * findings with the deployment's rollout state: the verification of every Kubernetes remediation.
 */
export async function verifyByChecks(ctx: Context, kube: KubePort, checks: readonly Check[]): Promise<Verification> {
  const now = ctx.clock.now();
  const findings: Finding[] = [];
  const errors: string[] = [];
  const run = forOneRun(ctx, checks);
  for (const check of checks) {
    try {
      findings.push(...check.evaluate(await check.collect(run), { config: ctx.config, now }));
    } catch (error) {
      errors.push(`${check.id}: ${(error as Error).message}`);
    }
  }
  const deployment = await kube.readDeployment(ctx.config.app.deployment, ctx.signal);
  const progress = rolloutProgress(deployment);
  const ids = checks.map((c) => c.id).join(', ');
  return {
    summary: `${progress.text}; ${ids}: ${findings.length ? `${findings.length} finding(s)` : errors.length ? 'could not run' : 'ok'}`,
    findings,
    details: { ...progress.counts, ...(errors.length ? { errors } : {}) },
  };
}

/** Polls the app deployment like `kubectl rollout status` until `goal`, with a spinner on a terminal. */
export async function waitForRollout(ctx: Context, kube: KubePort, goal: RolloutGoal, timeoutMs: number): Promise<StepOutcome> {
  const name = ctx.config.app.deployment;
  const progress = ctx.progress(`waiting for ${goalText(goal, name)}…`);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const state = rolloutProgress(await kube.readDeployment(name, ctx.signal));
      progress.update(`deployment/${name}: ${state.text}`);
      if (reached(goal, state.counts)) return { status: 'done', detail: state.text };
      if (ctx.signal.aborted) return { status: 'failed', detail: `stopped waiting (cancelled): ${state.text}` };
      if (Date.now() >= deadline) {
        return { status: 'failed', detail: `not done after ${formatDuration(timeoutMs)}: ${state.text}` };
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    progress.stop();
  }
}

interface RolloutCounts {
  desired: number;
  updated: number;
  ready: number;
  available: number;
  total: number;
  observed: boolean;
}

function rolloutProgress(deployment: V1Deployment | null): { counts: RolloutCounts; text: string } {
  const status = deployment?.status ?? {};
  const counts = {
    desired: deployment?.spec?.replicas ?? 0,
    updated: status.updatedReplicas ?? 0,
    ready: status.readyReplicas ?? 0,
    available: status.availableReplicas ?? 0,
    total: status.replicas ?? 0,
    observed: (status.observedGeneration ?? 0) >= (deployment?.metadata?.generation ?? 0),
  };
  const old = counts.total - counts.updated;
  return {
    counts,
    text: `${counts.updated} of ${counts.desired} replicas updated, ${counts.available} available${old > 0 ? `, ${old} old pending termination` : ''}`,
  };
}

/** `kubectl rollout status`'s test, or the HPA having scaled the deployment to its new minimum. */
function reached(goal: RolloutGoal, c: RolloutCounts): boolean {
  if (!c.observed) return false;
  if (goal.kind === 'replicas') return c.desired >= goal.replicas && c.available >= goal.replicas;
  return c.updated >= c.desired && c.total === c.updated && c.available >= c.updated;
}

export function goalText(goal: RolloutGoal, name: string): string {
  return goal.kind === 'replicas' ? `deployment/${name} to run ${goal.replicas} available replicas` : `the rollout of deployment/${name}`;
}

/**
 * The change as a diff of the fields that differ between the object now and what the API server
 * would store (its dry-run answer): spec, labels and annotations, with named list items (containers)
 * addressed by name.
 */
export function objectDiff(before: object, after: object, label: string): string {
  const a = flatten(relevant(before));
  const b = flatten(relevant(after));
  const lines = [`--- ${label} (now)`, `+++ ${label} (after, server-side dry run)`];
  for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    if (a.get(key) === b.get(key)) continue;
    if (a.has(key)) lines.push(`- ${key}: ${a.get(key)}`);
    if (b.has(key)) lines.push(`+ ${key}: ${b.get(key)}`);
  }
  return lines.join('\n');
}

function relevant(object: object): Record<string, unknown> {
  const o = object as { spec?: unknown; metadata?: { labels?: unknown; annotations?: unknown } };
  return { metadata: { labels: o.metadata?.labels, annotations: o.metadata?.annotations }, spec: o.spec };
}

function flatten(value: unknown, path = '', into = new Map<string, string>()): Map<string, string> {
  if (value === undefined || value === null) return into;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const name = (item as { name?: unknown } | null)?.name;
      flatten(item, `${path}[${typeof name === 'string' ? name : i}]`, into);
    });
  } else if (value instanceof Date) {
    into.set(path, value.toISOString());
  } else if (typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) flatten(child, path ? `${path}.${key}` : key, into);
  } else {
    into.set(path, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return into;
}
