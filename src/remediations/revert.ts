import type { V1Deployment, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { Context } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import { GuardError, UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import type { JsonPatchOperation, KubePort } from '../kube/port.js';
import type { Printable } from '../render/output.js';
import { SCHEMA_VERSION } from '../render/report.js';
import { paint } from '../render/style.js';
import { REVERT, auditLogPath, mitigationsInEffect, readAuditLog, type AuditRecord, type Mitigation } from './audit.js';
import { ConfigMapRolloutSession } from './configmap-rollout.js';
import { canonical, pointerGet, workloadLeafChanges, type LeafChange, type Replaced } from './replaced.js';
import { defineRemediation, type RemediationSession } from './remediation.js';
import { WorkloadPatchSession, objectIdentity, rolloutTimeoutOf, rolloutTimeoutOption, type ObjectChange, type RolloutGoal, type WorkloadPlan } from './workload-patch.js';

type ConfigMapChange = Extract<Replaced, { kind: 'configmap' }>;
type WorkloadChange = Extract<Replaced, { parts: unknown }>;

interface Args {
  mitigation: Mitigation;
  /** The mitigations still in effect applied after it, newest first: one on the same object is reverted first. */
  newer: Mitigation[];
  rolloutTimeoutMs: number;
}

/**
 * `fix revert [RUN-ID]`: the runbook's post-incident "remove any temporary mitigations". Undoes the most
 * recent mitigation still in effect (or the run named) by restoring the values its applied steps recorded
 * as replaced: a ConfigMap's data keys byte for byte, then a rolling restart so the pods read them; a
 * deployment's or HPA's fields by a JSON patch that tests each value is still the one the mitigation wrote.
 * Every guard of a fix applies (dry run, confirmation, preflight, Leases, re-validation, audit, rollout wait),
 * and it is verified by the checks of the remediation it undoes. When any of those values changed since
 * (another change would be overwritten), it refuses with exit 5, showing what differs. A revert is itself
 * audited with the run it undoes (`reverts`), so that run leaves `--list`; a revert is not a mitigation and
 * is not reverted in turn: running the fix again applies the mitigation again.
 */
export const revertRemediation = defineRemediation<Args>({
  id: REVERT,
  summary: 'Undo a mitigation still in effect (the most recent, or RUN-ID), restoring what it replaced',
  description:
    'Restores the values the mitigation replaced, as recorded in the audit log: a ConfigMap key byte for byte (then a\n' +
    'rolling restart), a deployment or HPA field by a JSON patch, shown as a server-side dry run. It refuses (exit 5)\n' +
    'when the object changed since the mitigation (another change would be overwritten), and shows what differs.\n' +
    'fix revert --list shows the mitigations still in effect, newest first, each with its revert command. A revert\n' +
    'is not itself reverted: to apply the mitigation again, run its fix again.',
  risk: 'medium',
  anchor: 'post-incident-immediate',
  operand: {
    name: 'run-id',
    key: 'runId',
    description: 'the run to undo, or a unique start of its id (default: the most recent mitigation still in effect)',
    default: (ctx) => mitigationsInEffect(readAuditLog(auditLogPath(ctx)), ctx.clock.now())[0]?.run ?? null,
  },
  options: () => [rolloutTimeoutOption()],
  list: { description: 'list the mitigations still in effect, newest first, with their age', printable: mitigationsPrintable },
  examples: ['aegis-ir fix revert --list', 'aegis-ir fix revert --dry-run', 'aegis-ir fix revert 5f0c2a9e --yes   # a unique start of the run id is enough'],
  parseArgs(options, ctx) {
    return { ...chosenMitigation(ctx, options.runId === undefined ? null : String(options.runId)), rolloutTimeoutMs: rolloutTimeoutOf(options) };
  },
  async open(ctx, args) {
    const { mitigation } = args;
    const kube = await ctx.kube();
    const [configMaps, workloads] = [mitigation.replaced.filter(isConfigMap), mitigation.replaced.filter((r): r is WorkloadChange => !isConfigMap(r))];
    for (const replaced of mitigation.replaced) sameScope(ctx, kube, mitigation, replaced);
    const { isRemediationId, loadRemediation } = await import('./registry.js');
    const undone = isRemediationId(mitigation.remediation) ? await loadRemediation(mitigation.remediation) : undefined;
    const checks = (await undone?.checks?.(ctx)) ?? [];
    const [configMap] = configMaps;
    let session: RemediationSession;
    if (configMap && !workloads.length && configMaps.length === 1) {
      session = new ConfigMapRolloutSession(
        ctx,
        kube,
        { configMap: configMap.name, plan: (_current, map) => planConfigMapRevert(args, configMap, map.data ?? {}, ctx.clock.now()), verifyWith: checks },
        args.rolloutTimeoutMs,
      );
    } else if (!configMaps.length) {
      session = new WorkloadPatchSession(
        ctx,
        kube,
        { plan: (k, deployment, signal) => planWorkloadRevert(k, deployment, args, workloads, ctx.clock.now(), signal), verifyWith: checks },
        args.rolloutTimeoutMs,
      );
    } else {
      throw new UsageError(`run ${mitigation.run} changed a ConfigMap and other objects together; fix revert undoes one kind at a time`, `see what it changed: aegis-ir fix revert --list -o json`);
    }
    session.auditFields = { reverts: mitigation.run };
    return session;
  },
});

function isConfigMap(replaced: Replaced): replaced is ConfigMapChange {
  return replaced.kind === 'configmap';
}

/** The mitigation `runId` names (an id or a unique start of one), else the most recent still in effect; a usage error naming why not. */
function chosenMitigation(ctx: Context, runId: string | null): Pick<Args, 'mitigation' | 'newer'> {
  const path = auditLogPath(ctx);
  const records = readAuditLog(path);
  const inEffect = mitigationsInEffect(records, ctx.clock.now());
  if (runId === null) {
    const [newest] = inEffect;
    if (!newest) throw new UsageError(`nothing to revert: no mitigation recorded in ${path} is still in effect`, 'aegis-ir fix revert --list');
    return { mitigation: newest, newer: [] };
  }
  const matching = inEffect.filter((m) => m.run.startsWith(runId));
  const [only] = matching;
  if (only && matching.length === 1) return { mitigation: only, newer: inEffect.slice(0, inEffect.indexOf(only)) };
  if (matching.length > 1) {
    throw new UsageError(`run id "${runId}" is the start of ${matching.length} mitigations; give more of it`, 'aegis-ir fix revert --list');
  }
  throw new UsageError(whyNotInEffect(records, runId, path), 'aegis-ir fix revert --list');
}

/** Why `runId` is not a mitigation to revert: unknown (with the closest id), a revert, already reverted, or nothing applied. */
function whyNotInEffect(records: readonly AuditRecord[], runId: string, path: string): string {
  const own = records.filter((r) => r.run.startsWith(runId));
  const first = own[0];
  if (!first) {
    return `unknown run "${runId}" in ${path}${didYouMean(runId, [...new Set(records.filter((r) => r.remediation).map((r) => r.run))])}`;
  }
  if (first.remediation === REVERT) {
    return `run ${first.run} is a revert (of run ${String(first.reverts)}); a revert is not reverted in turn: to apply the mitigation again, run its fix again`;
  }
  const revert = records.find((r) => r.remediation === REVERT && r.event === 'outcome' && r.status === 'done' && r.reverts === first.run);
  if (revert) return `run ${first.run} (fix ${first.remediation}) was already reverted by run ${revert.run} at ${revert.time}`;
  return `run ${first.run}${first.remediation ? ` (fix ${first.remediation})` : ''} applied no Kubernetes change that a revert could undo`;
}

/** Refuses, as a usage error with the flag to pass, to revert on another cluster, namespace or deployment than the mitigation's. */
function sameScope(ctx: Context, kube: KubePort, mitigation: Mitigation, replaced: Replaced): void {
  if (mitigation.cluster !== null && mitigation.cluster !== kube.server) {
    throw new UsageError(
      `run ${mitigation.run} was applied to ${mitigation.cluster}${mitigation.context ? ` (context ${mitigation.context})` : ''}, not ${kube.server}`,
      mitigation.context ? `aegis-ir --context ${mitigation.context} fix revert ${mitigation.run}` : 'point the kubeconfig at that cluster',
    );
  }
  if (replaced.namespace !== kube.namespace) {
    throw new UsageError(`run ${mitigation.run} changed namespace ${replaced.namespace}, not ${kube.namespace}`, `aegis-ir -n ${replaced.namespace} fix revert ${mitigation.run}`);
  }
  const deployment = replaced.kind === 'configmap' ? replaced.deployment : replaced.kind === 'deployment' ? replaced.name : ctx.config.app.deployment;
  if (deployment !== ctx.config.app.deployment) {
    throw new UsageError(`run ${mitigation.run} changed deployment/${deployment}, not deployment/${ctx.config.app.deployment}`, `aegis-ir --deployment ${deployment} fix revert ${mitigation.run}`);
  }
}

function ago(mitigation: Mitigation, now: Date): string {
  return `${formatDuration(Math.max(0, now.getTime() - Date.parse(mitigation.appliedAt)))} ago`;
}

/**
 * The ConfigMap's data keys back to their text before the mitigation, byte for byte; refused (exit 5) when a key
 * no longer holds what the mitigation wrote, with the difference shown.
 */
async function planConfigMapRevert({ mitigation, newer }: Args, change: ConfigMapChange, data: Record<string, string>, now: Date) {
  const { lineDiff } = await import('../kube/config-document.js');
  const changed = Object.entries(change.data).filter(([key, d]) => (data[key] ?? null) !== d.after && (data[key] ?? null) !== d.before);
  if (changed.length) {
    const diffs = changed.map(([key, d]) => lineDiff(data[key] ?? '', d.after ?? '', `configmap/${change.name} data.${key}`, `as run ${mitigation.run} left it`));
    throw changedSince(mitigation, newer, change, diffs, now);
  }
  return {
    summary: `revert run ${mitigation.run} (fix ${mitigation.remediation}, ${ago(mitigation, now)}): restore configmap/${change.name} as it was before`,
    changes: [],
    texts: Object.entries(change.data).map(([dataKey, d]) => ({ dataKey, text: d.before, label: `restore data.${dataKey} to its text before run ${mitigation.run}` })),
    size: 1,
    notes: revertNotes(mitigation),
  };
}

/** What the operator weighs before confirming: what is undone, and that what it covered for must be over. */
function revertNotes(mitigation: Mitigation): string[] {
  return [`undoes: ${mitigation.summary}`, `the mitigation goes: make sure what it covered for is over first (aegis-ir triage)`];
}

/**
 * A JSON patch per object giving back each value the mitigation wrote, each guarded by a `test` of the value it
 * wrote; refused (exit 5) when one of them holds something else now.
 */
async function planWorkloadRevert(
  kube: KubePort,
  deployment: V1Deployment,
  { mitigation, newer }: Args,
  workloads: readonly WorkloadChange[],
  now: Date,
  signal: AbortSignal,
): Promise<WorkloadPlan> {
  const hpas = workloads.some((w) => w.kind === 'horizontalpodautoscaler') ? await kube.listHorizontalPodAutoscalers(signal) : [];
  const changes: ObjectChange[] = [];
  const identity: unknown[] = [];
  let goal: RolloutGoal = { kind: 'rollout' };
  for (const replaced of workloads) {
    const label = `${replaced.kind}/${replaced.name}`;
    const object: V1Deployment | V2HorizontalPodAutoscaler | undefined = replaced.kind === 'deployment' ? deployment : hpas.find((h) => h.metadata?.name === replaced.name);
    if (!object) throw new UsageError(`${label} no longer exists in namespace ${kube.namespace}; there is nothing to revert`, 'aegis-ir fix revert --list');
    const stored: unknown = JSON.parse(canonical(object));
    const leaves = workloadLeafChanges(replaced);
    const current = (leaf: LeafChange) => canonical(pointerGet(stored, leaf.pointer) ?? null);
    const written = (leaf: LeafChange) => canonical(leaf.after ?? null);
    const given = (leaf: LeafChange) => canonical(leaf.before ?? null);
    identity.push(objectIdentity(object, leaves.map((leaf) => pointerGet(stored, leaf.pointer) ?? null)));
    const differs = leaves.filter((leaf) => current(leaf) !== written(leaf) && current(leaf) !== given(leaf));
    if (differs.length) {
      throw changedSince(mitigation, newer, replaced, differs.map((leaf) => `    ${leaf.pointer}: run ${mitigation.run} set ${written(leaf)}, now ${current(leaf)}`), now);
    }
    const pending = leaves.filter((leaf) => current(leaf) === written(leaf));
    if (!pending.length) continue;
    const patch: JsonPatchOperation[] = pending.flatMap((leaf): JsonPatchOperation[] => [
      ...(leaf.after === undefined || typeof leaf.after === 'object' ? [] : [{ op: 'test' as const, path: leaf.pointer, value: leaf.after }]),
      leaf.before === undefined ? { op: 'remove', path: leaf.pointer } : { op: leaf.after === undefined ? 'add' : 'replace', path: leaf.pointer, value: leaf.before },
    ]);
    const description = `restore ${label}: ${pending.map((leaf) => `${leaf.pointer} ${written(leaf)} → ${given(leaf)}`).join('; ')}`;
    changes.push(replaced.kind === 'deployment'
      ? { kind: 'deployment', current: deployment, patch: { type: 'json', body: patch }, description }
      : { kind: 'horizontalpodautoscaler', current: object as V2HorizontalPodAutoscaler, patch: { type: 'json', body: patch }, description });
    if (!pending.some((leaf) => leaf.pointer.startsWith('/spec/template'))) {
      const replicas = pending.find((leaf) => leaf.pointer === '/spec/replicas' || leaf.pointer === '/spec/minReplicas')?.before;
      if (typeof replicas === 'number') goal = { kind: 'replicas', replicas };
    }
  }
  return {
    summary: changes.length
      ? `revert run ${mitigation.run} (fix ${mitigation.remediation}, ${ago(mitigation, now)}): ${mitigation.summary}, undone`
      : `run ${mitigation.run} (fix ${mitigation.remediation}) is undone already: every value it wrote is back as before`,
    changes,
    goal,
    identity: { reverts: mitigation.run, objects: identity },
    size: changes.length,
    notes: revertNotes(mitigation),
  };
}

/** The refusal when the object changed since the mitigation: what differs, and the newer mitigation of it to revert first when there is one. */
function changedSince(mitigation: Mitigation, newer: readonly Mitigation[], object: Replaced, differences: string[], now: Date): GuardError {
  const label = `${object.kind}/${object.name}`;
  const sameObject = newer.filter((m) => m.replaced.some((r) => r.kind === object.kind && r.name === object.name && r.namespace === object.namespace));
  const oldest = sameObject.at(-1);
  return new GuardError(
    `${label} changed since run ${mitigation.run} (fix ${mitigation.remediation}, ${ago(mitigation, now)}); reverting would overwrite that change, so nothing was changed\n${differences.join('\n')}`,
    oldest
      ? `run ${oldest.run} (fix ${oldest.remediation}, ${ago(oldest, now)}) changed it since: revert the newer mitigations first, newest first: ${sameObject.map((m) => m.revertCommand).join(', then ')}`
      : `see what changed it: kubectl -n ${object.namespace} get ${label} -o yaml`,
  );
}

/** `fix revert --list`: the mitigations still in effect in this run's audit log, text and document. */
function mitigationsPrintable(ctx: Context): Printable {
  const path = auditLogPath(ctx);
  const now = ctx.clock.now();
  const mitigations = mitigationsInEffect(readAuditLog(path), now);
  return {
    document: {
      schemaVersion: SCHEMA_VERSION,
      command: 'fix revert --list',
      auditLog: path,
      mitigations: mitigations.map((m) => ({ ...m, age: formatDuration(m.ageMs) })),
    },
    text: ({ color }) => {
      const c = paint(color);
      if (!mitigations.length) return `No mitigation is still in effect (audit log: ${path}).\n`;
      const lines = [c.bold(`Mitigations still in effect, newest first (${mitigations.length}):`)];
      for (const m of mitigations) {
        lines.push(
          '',
          `  ${c.bold(`fix ${m.remediation}`)}  ${formatDuration(m.ageMs)} ago (${m.appliedAt}) by ${m.operator}${m.incidents.length ? `, during ${m.incidents.join(', ')}` : ''}`,
          `    target: ${m.target}`,
          `    ${m.summary}`,
          ...m.changes.map((change) => c.dim(`    - ${change}`)),
          `    verified: ${m.verification ?? 'not verified (the run stopped before)'}`,
          `    undo: ${m.revertCommand}`,
        );
      }
      lines.push('', c.dim(`audit log: ${path}`));
      return `${lines.join('\n')}\n`;
    },
  };
}
