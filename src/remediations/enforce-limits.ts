import type { V1Deployment } from '@kubernetes/client-node';
import { Option } from 'commander';
import { memoryUsageCheck } from '../checks/memory/memory-usage.js';
import { UsageError } from '../core/errors.js';
import type { KubePort } from '../kube/port.js';
import { formatBytes, parseQuantity } from '../kube/quantity.js';
import { defineRemediation } from './remediation.js';
import { WorkloadPatchSession, objectIdentity, rolloutTimeoutOf, rolloutTimeoutOption, type WorkloadPlan } from './workload-patch.js';

const MIB = 1024 ** 2;
/** The default limit: half again the request, the headroom a working set needs above what it asked for. */
const REQUEST_FACTOR = 1.5;

/** `--memory Q` for every container, else 1.5× each one's request; `--container` narrows it to one. */
export interface EnforceLimitsArgs {
  memory: number | null;
  container: string | null;
  rolloutTimeoutMs: number;
}

/**
 * `fix enforce-limits [--memory QUANTITY]`: the runbook's "Add memory limit enforcement". Gives every
 * container of the deployment's pod template that has no memory limit (the app container and its
 * sidecars) one: `--memory`, else 1.5× its request rounded up to whole MiB. A container with neither
 * a request nor `--memory` is left as it is, and said so. One strategic merge patch, computed by a
 * server-side dry run and shown as a diff; the rollout replaces every pod; verified by memory usage.
 */
export const enforceLimitsRemediation = defineRemediation<EnforceLimitsArgs>({
  id: 'enforce-limits',
  summary: 'Give every container without a memory limit one (1.5× its request), as a patch of the deployment',
  description:
    'Adds a memory limit to each container of the pod template that has none (--memory, else 1.5× its request,\n' +
    'rounded up to Mi). Containers that already have a limit are untouched; raise one with fix memory-limit.\n' +
    'The diff comes from a server-side dry run; applying rolls every pod of the deployment.',
  risk: 'medium',
  anchor: 'issue-high-memory-usage',
  options: () => [
    new Option('--memory <quantity>', 'the limit to set, e.g. 768Mi (default: 1.5× each container\'s request)'),
    rolloutTimeoutOption(),
  ],
  examples: ['aegis-ir fix enforce-limits --dry-run', 'aegis-ir fix enforce-limits --memory 256Mi --container log-shipper --yes'],
  parseArgs(options, ctx) {
    const memory = options.memory === undefined ? null : parseQuantity(String(options.memory)) ?? Number.NaN;
    if (memory !== null && !(memory >= MIB)) throw new UsageError(`--memory ${String(options.memory)} is not valid; expected a memory quantity such as 256Mi or 1Gi`);
    // The global --container (app.container) narrows it to one container, a sidecar too.
    return { memory, container: ctx.config.app.container ?? null, rolloutTimeoutMs: rolloutTimeoutOf(options) };
  },
  checks: async () => [memoryUsageCheck],
  async open(ctx, args) {
    const kube = await ctx.kube();
    const remediation = { plan: (_k: KubePort, d: V1Deployment) => Promise.resolve(planEnforceLimits(d, args)), verifyWith: [memoryUsageCheck] };
    return new WorkloadPatchSession(ctx, kube, remediation, args.rolloutTimeoutMs);
  },
});

/** The patch adding the missing memory limits. Pure. */
export function planEnforceLimits(deployment: V1Deployment, args: EnforceLimitsArgs): WorkloadPlan {
  const name = deployment.metadata?.name ?? '';
  const all = deployment.spec?.template?.spec?.containers ?? [];
  const containers = args.container ? all.filter((c) => c.name === args.container) : all;
  if (args.container && !containers.length) {
    throw new UsageError(`deployment/${name} has no container ${args.container}; it has ${all.map((c) => c.name).join(', ')}`, 'pass --container NAME');
  }
  const notes: string[] = [];
  const set: Array<{ name: string; memory: string; from: string }> = [];
  for (const c of containers) {
    if (parseQuantity(c.resources?.limits?.memory) !== undefined) continue;
    const request = parseQuantity(c.resources?.requests?.memory) ?? null;
    if (args.memory === null && request === null) {
      notes.push(`container ${c.name} has neither a memory limit nor a request to derive one from; pass --memory QUANTITY --container ${c.name}`);
      continue;
    }
    const limit = Math.ceil((args.memory ?? (request as number) * REQUEST_FACTOR) / MIB) * MIB;
    if (request !== null && limit < request) {
      throw new UsageError(`--memory ${formatBytes(limit)} is below container ${c.name}'s memory request (${formatBytes(request)}); the API would refuse it`);
    }
    set.push({ name: c.name, memory: `${limit / MIB}Mi`, from: args.memory === null ? `1.5× its ${formatBytes(request as number)} request` : '--memory' });
  }
  const identity = { deployment: objectIdentity(deployment, deployment.spec?.template), set };
  if (!set.length) {
    return { summary: `every container of deployment/${name}${args.container ? ` named ${args.container}` : ''} has a memory limit: nothing to do`, changes: [], goal: { kind: 'rollout' }, identity, size: 0, notes };
  }
  return {
    summary: `set a memory limit on ${set.map((s) => `${s.name} (${s.memory})`).join(', ')} in deployment/${name}`,
    changes: [
      {
        kind: 'deployment',
        current: deployment,
        patch: { type: 'strategic-merge', body: { spec: { template: { spec: { containers: set.map((s) => ({ name: s.name, resources: { limits: { memory: s.memory } } })) } } } } },
        description: set.map((s) => `container ${s.name}: no memory limit → ${s.memory} (${s.from})`).join('; '),
      },
    ],
    goal: { kind: 'rollout' },
    identity,
    size: set.length,
    notes: [...notes, `every pod of deployment/${name} is replaced by the rollout; a container above its new limit is OOMKilled, so check usage first (aegis-ir diagnose memory)`],
  };
}
