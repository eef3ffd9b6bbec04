import { makeFinding, type Finding, type FindingKind } from '../../core/findings.js';
import { pprofPercent } from '../../pprof/heap-profile.js';
import { KUBERNETES_FINDINGS as K } from '../kubernetes/findings.js';
import { MEMORY_FINDINGS as F } from './findings.js';

/** Allocators in batch handling: a smaller batch holds less at once. */
const BATCH_CODE = /batch/i;

interface Option {
  action: string;
  next: string;
}

/**
 * The runbook's remediation for high memory, decided from the evidence: growth or OOMKills → restart
 * the affected pods (temporary: the leak comes back); the top allocator in batch handling → reduce
 * the batch size; usage flat at the limit → raise the limit; containers without a limit → enforce
 * limits. The top allocator of the heap profile is the lead for fixing the leak itself.
 */
export function decideMemoryRemediation(findings: Finding[]): Finding[] {
  const oom = having(findings, F.oomSomePods, F.oomMostPods);
  const near = having(findings, K.memoryNearLimit);
  const soon = having(findings, F.reachesLimit);
  const growing = having(findings, F.growth).length > 0;
  const unlimited = having(findings, K.noMemoryLimit);
  const top = having(findings, F.topAllocator)[0];
  const lead = top ? leadOf(top) : null;
  const options: Option[] = [];
  if (oom.length || soon.length || (near.length && growing)) {
    options.push({ action: 'restart the affected pods (temporary: the leak comes back)', next: 'aegis-ir fix restart --dry-run' });
  }
  if (lead && BATCH_CODE.test(lead.function) && (oom.length || near.length || soon.length)) {
    options.push({ action: 'reduce the batch size', next: 'aegis-ir fix batch-size --to <smaller> --dry-run' });
  }
  if (near.length && !growing && !soon.length) {
    options.push({ action: 'raise the memory limit (usage is flat at it)', next: 'aegis-ir fix memory-limit --factor 1.5 --dry-run' });
  }
  if (unlimited.length) options.push({ action: 'enforce memory limits', next: 'aegis-ir fix enforce-limits --dry-run' });
  const [chosen, ...others] = options;
  if (!chosen) return [];
  const symptoms = [...oom, ...soon, ...near];
  const cause = symptoms.length ? `${symptoms[0]?.code} ${symptoms[0]?.summary}${symptoms.length > 1 ? ` and ${symptoms.length - 1} more` : ''}` : `${unlimited.length} container(s) without a memory limit`;
  return [
    makeFinding(F.remediation, {
      check: 'memory',
      params: { cause, action: chosen.action, lead: lead ? `${lead.function} holds ${lead.share} of the heap (${lead.where})` : '' },
      evidence: { ...(others.length ? { alsoConsider: others.map((o) => `${o.action}: ${o.next}`) } : {}), ...(lead ? { lead } : {}) },
      next: [chosen.next, ...others.map((o) => o.next)],
    }),
  ];
}

function leadOf(top: Finding): { function: string; share: string; where: string } | null {
  const [row] = (top.evidence.top ?? []) as Array<{ function: string; file: string; line: number; flatShare: number }>;
  return row ? { function: row.function, share: pprofPercent(row.flatShare), where: `${row.file}:${row.line}` } : null;
}

function having(findings: Finding[], ...kinds: Array<FindingKind<never>>): Finding[] {
  return findings.filter((f) => kinds.some((k) => k.code === f.code));
}
