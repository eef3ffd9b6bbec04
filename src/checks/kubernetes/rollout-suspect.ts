import { formatDuration } from '../../core/duration.js';
import { makeFinding, levelFor, type Finding } from '../../core/findings.js';
import { worstSeverity, type Severity } from '../../core/severity.js';
import { KUBERNETES_FINDINGS as F } from './findings.js';

/** Checks whose symptoms, rising after a rollout began, point at it (with Prometheus). */
const RATE_CHECKS = new Set(['error-rate', 'latency']);

/**
 * Names a recent rollout as the suspect only on evidence specific to it: pods of its new ReplicaSet
 * failing while pods of an older revision serve, or the error rate or latency rising after it
 * began. Symptoms that merely post-date it do not count: every pod it created starts after it, so
 * their restarts, health and logs always do. The suspect finding carries the worst severity it
 * explains, so the verdict names the rollout beside the symptom, and it points at the rollback.
 */
export function nameSuspectRollout(findings: Finding[], now: Date): Finding[] {
  const rollout = findings.find((f) => f.code === F.recentRollout.code);
  if (!rollout?.since) return [];
  const rolledOutAt = Date.parse(rollout.since);
  const current = rollout.evidence.current as { revision: number; changeCause: string | null; image: string };
  const after = findings.filter(
    (f) =>
      f.severity !== null &&
      (newRevisionFailing(f, current.revision) || (RATE_CHECKS.has(f.check) && f.since !== undefined && Date.parse(f.since) >= rolledOutAt)),
  );
  if (!after.length) return [];
  const severity = after.reduce<Severity | null>((worst, f) => worstSeverity(worst, f.severity), null);
  const suspect = makeFinding(F.suspectRollout, {
    check: rollout.check,
    params: {
      deployment: (rollout.resource ?? '').replace('deployment/', ''),
      revision: current.revision,
      cause: current.changeCause ?? current.image,
      ago: formatDuration(now.getTime() - rolledOutAt),
      codes: [...new Set(after.map((f) => f.code))].join(', '),
    },
    resource: rollout.resource,
    evidence: { ...rollout.evidence, symptoms: after.map((f) => ({ code: f.code, since: f.since ?? rollout.since })) },
    next: ['aegis-ir fix rollback --dry-run'],
    since: rollout.since,
  });
  return [{ ...suspect, severity, level: levelFor(severity) }];
}

/** Pods failing to run, all of the new revision, while a pod of another revision is ready. */
function newRevisionFailing(finding: Finding, revision: number): boolean {
  if (finding.code !== F.mostPodsFailing.code && finding.code !== F.somePodsFailing.code) return false;
  const pods = (finding.evidence.pods ?? []) as Array<{ revision?: number | null }>;
  const serving = (finding.evidence.servingRevisions ?? []) as Array<number | null>;
  return pods.length > 0 && pods.every((p) => p.revision === revision) && serving.some((r) => r !== null && r !== revision);
}
