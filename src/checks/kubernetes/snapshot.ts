import { setMaxListeners } from 'node:events';
import type { CoreV1Event, V1Deployment, V1ObjectMeta, V1OwnerReference, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { Config } from '../../core/config.js';
import type { Context } from '../../core/context.js';
import { deadlineSignal } from '../../core/cancellation.js';
import { formatDuration } from '../../core/duration.js';
import { DeadlineError, UsageError } from '../../core/errors.js';
import type { KubePort } from '../../kube/port.js';
import type { Check } from '../check.js';

/** kubectl's annotation naming the container `kubectl exec` and `kubectl logs` use by default. */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';
const REVISION = 'deployment.kubernetes.io/revision';
/** Nodes read per run at most: enough to name the NotReady ones behind unready pods. */
const NODES_READ = 20;

/** The Ready condition of a node a pod of the workload runs on. */
export interface NodeState {
  ready: boolean;
  reason: string | null;
  message: string | null;
}

/**
 * The workload as one run sees it, gathered once and shared by every check of the run: the
 * Deployment, the ReplicaSets it owns, the pods those own (by ownerReferences, not by label), events
 * about them, and the nodes of unready pods.
 */
export interface WorkloadSnapshot {
  namespace: string;
  /** The Deployment looked for (`app.deployment`). */
  name: string;
  /** The label selector pods were listed by (`app.selector`). */
  selector: string;
  deployment: V1Deployment | null;
  /** When the Deployment is missing: the names of those the namespace has. */
  existing: string[];
  /** The Deployment's ReplicaSets (its revisions). */
  replicaSets: V1ReplicaSet[];
  /** The Deployment's own pods. */
  pods: V1Pod[];
  /** Pods the selector matches that belong to another workload (a canary, a Job): context, never counted. */
  others: Array<{ pod: V1Pod; owner: string }>;
  /** Events about the Deployment, its ReplicaSets and its pods. */
  events: CoreV1Event[];
  /** Nodes of the workload's unready pods, by name; absent when they could not be read. */
  nodes: Record<string, NodeState>;
}

const reads = new WeakMap<Context, WorkloadRead>();
/** The run a check's context belongs to. */
const runOf = new WeakMap<Context, Context>();
/** The checks each run is made of. */
const checksOf = new WeakMap<Context, readonly Check[]>();

/**
 * A context for one run of `checks`: what its checks gather once (the workload snapshot, the pods'
 * logs) they share, and a later run (the verification after a fix) gathers afresh.
 */
export function forOneRun(ctx: Context, checks: readonly Check[]): Context {
  const run = { ...ctx };
  checksOf.set(run, checks);
  const early = ahead.get(ctx);
  if (early) {
    reads.set(run, early);
    ahead.delete(ctx);
  }
  return run;
}

/** The context of the run `ctx` (a check's or the run's own) belongs to, and the checks of that run. */
export function runContext(ctx: Context): { run: Context; checks: readonly Check[] } {
  const run = runOf.get(ctx) ?? ctx;
  return { run, checks: checksOf.get(run) ?? [] };
}

/** The context of one check of the run of `ctx`: the check's own signal (its deadline), the run's snapshot. */
export function forOneCheck(ctx: Context, signal: AbortSignal): Context {
  const check = { ...ctx, signal };
  runOf.set(check, runOf.get(ctx) ?? ctx);
  return check;
}

/**
 * The run's workload snapshot, fetched on first use (its requests concurrently) and shared after. Its
 * requests serve every check, so they are bounded by the run (Ctrl-C, `--timeout`) rather than by the
 * deadline of the check that happened to ask first; each check still stops waiting at its own.
 */
export function workloadSnapshot(ctx: Context): Promise<WorkloadSnapshot> {
  const { run } = runContext(ctx);
  let read = reads.get(run);
  if (!read) {
    read = readWorkload(run);
    reads.set(run, read);
  }
  return read.snapshot();
}

/** Reads started before their run, by the context the run will start from; each serves one run. */
const ahead = new WeakMap<Context, WorkloadRead>();

/**
 * Starts reading the workload for the next run of checks on `ctx` before those checks are loaded, so the
 * cluster answers while they load; resolves once the requests are on their way (again at once, until the
 * run takes them). Nothing else changes: the
 * run's --timeout still counts from the first check that asks for the snapshot, and a cluster that cannot
 * be reached is for the checks to report, as when they read it themselves.
 */
export async function readAhead(ctx: Context): Promise<void> {
  if (!ahead.has(ctx)) ahead.set(ctx, readWorkload(ctx));
  await ctx.kube().catch(() => undefined);
}

/**
 * A read of the workload under the run's signal; `snapshot()` is a check asking for it, the first starting its
 * --timeout. `pending` is the same read for what follows it before any check asks (the pods' logs read ahead).
 */
export interface WorkloadRead {
  snapshot(): Promise<WorkloadSnapshot>;
  pending: Promise<WorkloadSnapshot>;
}

/** The read `readAhead(ctx)` started, until a run takes it. */
export function readStartedAhead(ctx: Context): WorkloadRead | undefined {
  return ahead.get(ctx);
}

/** The read of the workload the run of `ctx` has (taken from a read ahead, or started by a check); none before. */
export function readOfRun(ctx: Context): WorkloadRead | undefined {
  return reads.get(runContext(ctx).run);
}

function readWorkload(run: Context): WorkloadRead {
  const timeout = new AbortController();
  const signal = AbortSignal.any([run.signal, timeout.signal]);
  // Every request of the snapshot listens on it (a node per unready pod's): not a leak.
  setMaxListeners(0, signal);
  let settled = false;
  let clear: () => void = () => undefined;
  const snapshot = run
    .kube()
    .then((kube) => takeSnapshot(kube, run.config, signal))
    .finally(() => {
      settled = true;
      clear();
    });
  // Until a check waits on it, a failure is nobody's to handle.
  snapshot.catch(() => undefined);
  let asked = false;
  return {
    pending: snapshot,
    snapshot: () => {
      if (!asked && !settled) {
        const deadline = deadlineSignal(
          run.signal,
          run.config.timeout,
          () => new DeadlineError('cluster', `the run's ${formatDuration(run.config.timeout)} deadline (--timeout) passed while reading the workload`),
        );
        deadline.signal.addEventListener('abort', () => timeout.abort(deadline.signal.reason), { once: true });
        clear = deadline.clear;
      }
      asked = true;
      return snapshot;
    },
  };
}

async function takeSnapshot(kube: KubePort, config: Config, signal: AbortSignal): Promise<WorkloadSnapshot> {
  const { deployment: name, selector } = config.app;
  const [answer, replicaSets, listed, events] = await Promise.all([
    kube.readDeployment(name, signal),
    kube.listReplicaSets(selector, signal),
    kube.listPods(selector, signal),
    kube.listEvents(signal),
  ]);
  const deployment = answer === null ? null : validDeployment(answer, name);
  const existing = deployment ? [] : await missingDeployment(kube, signal);
  const owned = deployment ? replicaSets.filter((rs) => isControlledBy(rs, deployment.metadata?.uid)) : [];
  const ownedUids = new Set(owned.map((rs) => rs.metadata?.uid));
  const pods: V1Pod[] = [];
  const others: WorkloadSnapshot['others'] = [];
  for (const pod of listed) {
    const controller = controllerOf(pod);
    if (controller && ownedUids.has(controller.uid)) pods.push(pod);
    else others.push({ pod, owner: ownerName(controller, replicaSets) });
  }
  const about = new Set([deployment?.metadata?.uid, ...ownedUids, ...pods.map((p) => p.metadata?.uid)].filter(Boolean));
  return {
    namespace: kube.namespace,
    name,
    selector,
    deployment,
    existing,
    replicaSets: owned,
    pods,
    others,
    events: events.filter((e) => about.has(e.involvedObject?.uid)),
    nodes: await nodesOf(kube, pods, signal),
  };
}

/** A Deployment answer that is not one (an HTML page, `{}`) is an error, never a healthy nothing. */
function validDeployment(answer: V1Deployment, name: string): V1Deployment {
  const missing = [
    answer.metadata?.name === name ? null : `metadata.name ${JSON.stringify(answer.metadata?.name ?? null)}`,
    answer.spec?.selector ? null : 'no spec.selector',
    answer.spec?.template ? null : 'no spec.template',
  ].filter(Boolean);
  if (missing.length) {
    throw new Error(`the Kubernetes API answered get deployment/${name} with something that is not a Deployment (${missing.join(', ')})`);
  }
  return answer;
}

/** A namespace that does not exist is the operator's mistake; otherwise the Deployments that do exist. */
/**
 * The one line for a command that needs the app's Deployment when it is not there: the ones that are, and the flag
 * that picks one (or, with none in the namespace, how to find the namespace that has it).
 */
export async function deploymentNotFound(kube: KubePort, name: string, signal: AbortSignal): Promise<UsageError> {
  return notFoundError(kube.namespace, name, await missingDeployment(kube, signal));
}

/** {@link deploymentNotFound} from a snapshot that found no Deployment: a command about it has nothing to look at. */
export function snapshotWithoutDeployment(snapshot: WorkloadSnapshot): UsageError {
  return notFoundError(snapshot.namespace, snapshot.name, snapshot.existing);
}

function notFoundError(namespace: string, name: string, existing: readonly string[]): UsageError {
  return new UsageError(
    `deployment/${name} does not exist in namespace ${namespace}; deployments there: ${existing.join(', ') || 'none'}`,
    existing.length
      ? `pass --deployment ${existing.length === 1 ? existing[0] : 'NAME'} (or set app.deployment in the config)`
      : 'kubectl get deployments --all-namespaces, then pass -n NAMESPACE and --deployment NAME',
  );
}

async function missingDeployment(kube: KubePort, signal: AbortSignal): Promise<string[]> {
  const [exists, names] = await Promise.all([kube.namespaceExists(signal), kube.listDeploymentNames(signal)]);
  if (exists === false) {
    throw new UsageError(`namespace "${kube.namespace}" not found`, 'list them with: kubectl get namespaces, then pass -n NAMESPACE');
  }
  return names.sort();
}

function isControlledBy(object: V1ReplicaSet, uid: string | undefined): boolean {
  return Boolean(uid) && controllerOf(object)?.uid === uid;
}

/** The owner reference that controls `object` (a pod's ReplicaSet, a ReplicaSet's Deployment), as the garbage collector reads it. */
export function controllerOf(object: { metadata?: V1ObjectMeta }): V1OwnerReference | undefined {
  return object.metadata?.ownerReferences?.find((o) => o.controller);
}

/** `Deployment/aegis-api-canary`, `Job/nightly-scan`: who owns a pod the selector matched. */
function ownerName(controller: { kind: string; name: string; uid: string } | undefined, replicaSets: V1ReplicaSet[]): string {
  if (!controller) return 'no controller';
  if (controller.kind === 'ReplicaSet') {
    const rs = replicaSets.find((r) => r.metadata?.uid === controller.uid);
    const deployment = rs && controllerOf(rs);
    if (deployment) return `${deployment.kind}/${deployment.name}`;
  }
  return `${controller.kind}/${controller.name}`;
}

async function nodesOf(kube: KubePort, pods: V1Pod[], signal: AbortSignal): Promise<Record<string, NodeState>> {
  const names = [
    ...new Set(
      pods
        .filter((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded' && !isReady(p) && p.spec?.nodeName)
        .map((p) => p.spec?.nodeName as string),
    ),
  ].slice(0, NODES_READ);
  const nodes = await Promise.all(names.map((n) => kube.readNode(n, signal)));
  const states: Record<string, NodeState> = {};
  for (const [i, node] of nodes.entries()) {
    const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready) states[names[i] as string] = { ready: ready.status === 'True', reason: ready.reason ?? null, message: ready.message ?? null };
  }
  return states;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * The container `kubectl exec` and `kubectl logs` would pick, which is where the app runs:
 * `app.container`, else the pod's `kubectl.kubernetes.io/default-container` annotation, else the
 * container named like the deployment, else the first.
 */
export function appContainerName(pod: Pick<V1Pod, 'metadata' | 'spec'>, app: Pick<Config['app'], 'deployment' | 'container'>): string {
  const names = pod.spec?.containers?.map((c) => c.name) ?? [];
  const annotated = pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (app.container) return app.container;
  if (annotated && names.includes(annotated)) return annotated;
  return names.find((n) => n === app.deployment) ?? names[0] ?? '';
}

/** The revision of the ReplicaSet owning a pod, or null when none of the snapshot's owns it. */
export function podRevision(pod: V1Pod, replicaSets: V1ReplicaSet[]): number | null {
  const controller = controllerOf(pod);
  const rs = replicaSets.find((r) => r.metadata?.uid === controller?.uid);
  return rs ? Number(rs.metadata?.annotations?.[REVISION] ?? 0) : null;
}

/** Failed (evicted, say) or Succeeded: the pod ran and is done; its ReplicaSet has replaced it. */
export function isFinished(pod: V1Pod): boolean {
  return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
}

/** The ReplicaSets a deployment owns: its revisions, as `kubectl rollout history` finds them. */
export async function ownedReplicaSets(kube: KubePort, deployment: V1Deployment, signal: AbortSignal): Promise<V1ReplicaSet[]> {
  const selector = Object.entries(deployment.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return (await kube.listReplicaSets(selector || undefined, signal)).filter((rs) => isControlledBy(rs, deployment.metadata?.uid));
}
