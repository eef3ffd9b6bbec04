import { defineFinding } from '../../core/findings.js';

/** Finding codes of `diagnose memory` (AEG-11xx); memory near or without a limit reuse AEG-1010 and AEG-1012. */
export const MEMORY_FINDINGS = {
  oomSomePods: defineFinding<{ oom: number; total: number; window: string; pods: string }>({
    code: 'AEG-1100',
    title: 'Pods OOMKilled while others serve',
    severity: 'SEV3',
    anchor: 'issue-high-memory-usage',
    summary: (p) => `${p.oom} of ${p.total} pods were OOMKilled in the last ${p.window} (${p.pods}) while the others serve`,
  }),
  oomMostPods: defineFinding<{ oom: number; total: number; window: string; pods: string }>({
    code: 'AEG-1101',
    title: 'Half or more pods OOMKilled',
    severity: 'SEV2',
    anchor: 'issue-high-memory-usage',
    summary: (p) => `${p.oom} of ${p.total} pods were OOMKilled in the last ${p.window} (${p.pods})`,
  }),
  reachesLimit: defineFinding<{ pod: string; container: string; rate: string; limit: string; within: string; at: string }>({
    code: 'AEG-1102',
    title: 'Memory will reach its limit soon',
    severity: 'SEV3',
    anchor: 'issue-high-memory-usage',
    summary: (p) => `${p.pod}/${p.container} grows ${p.rate}/h and will reach its ${p.limit} limit in ${p.within} (at ${p.at})`,
  }),
  growth: defineFinding<{ spread: string; growing: number; measured: number; rate: string }>({
    code: 'AEG-1103',
    title: 'Memory growing',
    severity: null,
    anchor: 'issue-high-memory-usage',
    summary: (p) => `${p.growing} of ${p.measured} pods' working sets grow (median ${p.rate}/h): ${p.spread}`,
  }),
  nodeOom: defineFinding<{ node: string; ago: string; message: string }>({
    code: 'AEG-1104',
    title: 'Node ran out of memory',
    severity: null,
    anchor: 'issue-high-memory-usage',
    summary: (p) => `node ${p.node} reported a system OOM ${p.ago} ago: ${p.message}`,
  }),
  topAllocator: defineFinding<{ pod: string; function: string; flat: string; share: string; total: string; where: string }>({
    code: 'AEG-1105',
    title: 'Top heap allocator',
    severity: null,
    anchor: 'issue-high-memory-usage',
    summary: (p) => `heap of ${p.pod}: ${p.function} holds ${p.flat} (${p.share}) of ${p.total} in use, at ${p.where}`,
  }),
  heapGrowth: defineFinding<{ pod: string; after: string; function: string; delta: string; where: string }>({
    code: 'AEG-1106',
    title: 'Heap growth between two profiles',
    severity: null,
    anchor: 'issue-high-memory-usage',
    summary: (p) => `heap of ${p.pod} over ${p.after}: ${p.function} grew most (${p.delta}), at ${p.where}`,
  }),
  remediation: defineFinding<{ cause: string; action: string; lead: string }>({
    code: 'AEG-1107',
    title: 'Memory remediation',
    severity: null,
    anchor: 'issue-high-memory-usage',
    summary: (p) => `${p.cause}; remediation: ${p.action}${p.lead ? `; lead for the leak: ${p.lead}` : ''}`,
  }),
};
