import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { Option } from 'commander';
import { podHealthCheck } from '../checks/kubernetes/pod-health.js';
import { appContainerName } from '../checks/kubernetes/snapshot.js';
import { resourceUsageCheck } from '../checks/kubernetes/resource-usage.js';
import { UsageError } from '../core/errors.js';
import type { KubePort } from '../kube/port.js';
import { formatBytes, parseQuantity } from '../kube/quantity.js';
import { defineRemediation } from './remediation.js';
import { WorkloadPatchSession, objectIdentity, rolloutTimeoutOf, rolloutTimeoutOption, type WorkloadPlan } from './workload-patch.js';

const MIB = 1024 ** 2;
const VERIFY_WITH = [podHealthCheck, resourceUsageCheck];

/** `--factor F` multiplies the current limit; `--to Q` sets it. */
export type MemoryLimitArgs = { factor: number | null; to: number | null; container: string | null; rolloutTimeoutMs: number };

/**
 * `fix memory-limit --factor 1.5 | --to 1Gi`: the runbook's "If OOM: increase memory limits". Raises
 * one container's memory limit in the deployment's pod template (strategic merge patch, so the other
 * containers and fields are untouched), rounded up to whole MiB; the memory request is lowered to the
 * new limit only if it would otherwise exceed it, which the API would reject. Never lowers a limit.
 * The new limit is capped (`--max` in MiB). The rollout replaces every pod; verified by pod health
 * (OOMKills) and memory use.
 */
export const memoryLimitRemediation = defineRemediation<MemoryLimitArgs>({
  id: 'memory-limit',
  summary: "Raise the app container's memory limit (rolling restart)",
  description:
    "Multiplies the container's memory limit by --factor (its request when it has no limit) or sets it to --to,\n" +
    'computed with a server-side dry run and shown as a diff, then waits for the rollout. Raising the limit buys time;\n' +
    'the runbook then asks for the leak to be found (aegis-ir diagnose memory, when available).',
  risk: 'medium',
  anchor: 'issue-high-memory-usage',
  cap: { unit: 'MiB of memory limit', default: 8192 },
  options: () => [
    new Option('--factor <f>', 'multiply the current limit by this (e.g. 1.5)').conflicts('to'),
    new Option('--to <quantity>', 'the new limit, e.g. 1Gi or 768Mi'),
    rolloutTimeoutOption(),
  ],
  examples: ['aegis-ir fix memory-limit --factor 1.5 --dry-run', 'aegis-ir fix memory-limit --to 1Gi --yes'],
  parseArgs(options, ctx) {
    const factor = options.factor === undefined ? null : Number(options.factor);
    const to = options.to === undefined ? null : parseQuantity(String(options.to)) ?? Number.NaN;
    if (factor === null && to === null) {
      throw new UsageError('say how far to raise the limit: --factor F or --to QUANTITY', 'aegis-ir fix memory-limit --factor 1.5 --dry-run');
    }
    if (factor !== null && !(factor > 1 && factor <= 10)) {
      throw new UsageError(`--factor ${String(options.factor)} is not valid; expected a number above 1 and at most 10`);
    }
    if (to !== null && !(to >= MIB)) throw new UsageError(`--to ${String(options.to)} is not valid; expected a memory quantity such as 768Mi or 1Gi`);
    // The global --container (app.container) names it, as it names the container every check reads.
    const container = ctx.config.app.container ?? null;
    return { factor, to, container, rolloutTimeoutMs: rolloutTimeoutOf(options) };
  },
  checks: async () => VERIFY_WITH,
  async open(ctx, args) {
    const kube = await ctx.kube();
    const remediation = {
      plan: (_k: KubePort, d: V1Deployment) => Promise.resolve(planMemoryLimit(d, args)),
      verifyWith: VERIFY_WITH,
    };
    return new WorkloadPatchSession(ctx, kube, remediation, args.rolloutTimeoutMs);
  },
});

/** The strategic merge patch raising one container's memory limit. Pure: the memory issue reuses it. */
export function planMemoryLimit(deployment: V1Deployment, args: MemoryLimitArgs): WorkloadPlan {
  const name = deployment.metadata?.name ?? '';
  const containers = deployment.spec?.template?.spec?.containers ?? [];
  // Without --container, the app container by kubectl's rule, as triage names it.
  const chosen = args.container ?? appContainerName(deployment.spec?.template ?? {}, { deployment: name });
  const container: V1Container | undefined = containers.find((c) => c.name === chosen);
  if (!container) {
    throw new UsageError(
      `deployment/${name} has no container ${args.container ?? ''}; it has ${containers.map((c) => c.name).join(', ') || 'none'}`,
      'pass --container NAME',
    );
  }
  const limit = parseQuantity(container.resources?.limits?.memory) ?? null;
  const request = parseQuantity(container.resources?.requests?.memory) ?? null;
  const base = limit ?? request;
  if (args.to === null && base === null) {
    throw new UsageError(`container ${container.name} has neither a memory limit nor a request to multiply`, 'pass --to QUANTITY, e.g. --to 1Gi');
  }
  const wanted = args.to ?? (base as number) * (args.factor as number);
  const next = Math.ceil(wanted / MIB) * MIB;
  if (limit !== null && next <= limit) {
    throw new UsageError(`${formatBytes(next)} does not raise the memory limit of container ${container.name} (${formatBytes(limit)})`);
  }
  const quantity = `${next / MIB}Mi`;
  const lowerRequest = request !== null && request > next;
  const resources = { limits: { memory: quantity }, ...(lowerRequest ? { requests: { memory: quantity } } : {}) };
  const from = limit === null ? 'no limit' : formatBytes(limit);
  return {
    summary: `raise the memory limit of ${name}/${container.name} from ${from} to ${quantity}`,
    changes: [
      {
        kind: 'deployment',
        current: deployment,
        patch: { type: 'strategic-merge', body: { spec: { template: { spec: { containers: [{ name: container.name, resources }] } } } } },
        description: `set container ${container.name} memory limit ${from} → ${quantity}${lowerRequest ? ` (request ${formatBytes(request as number)} → ${quantity})` : ''}`,
      },
    ],
    goal: { kind: 'rollout' },
    identity: { deployment: objectIdentity(deployment, deployment.spec?.template), container: container.name, limit: quantity },
    size: next / MIB,
    notes: [
      `every pod of deployment/${name} is replaced by the rollout`,
      'a higher limit buys time; the leak still needs finding (runbook: "then investigate memory leak")',
    ],
  };
}
