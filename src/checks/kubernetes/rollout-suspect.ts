import { formatDuration } from '../../core/duration.js';
import { makeFinding, levelFor, type Finding } from '../../core/findings.js';
import { worstSeverity, type Severity } from '../../core/severity.js';
import { KUBERNETES_FINDINGS as F } from './findings.js';

/**
 * Names a recent rollout as the suspect when findings that imply a severity began after it. The
 * suspect finding carries the worst severity it preceded, so the verdict names the rollout beside
 * the symptom, and it points at the rollback.
 */
export function nameSuspectRollout(findings: Finding[], now: Date): Finding[] {
  const rollout = findings.find((f) => f.code === F.recentRollout.code);
  if (!rollout?.since) return [];
  const rolledOutAt = Date.parse(rollout.since);
  const after = findings.filter((f) => f.severity !== null && f.since && Date.parse(f.since) >= rolledOutAt);
  if (!after.length) return [];
  const severity = after.reduce<Severity | null>((worst, f) => worstSeverity(worst, f.severity), null);
  const current = rollout.evidence.current as { revision: number; changeCause: string | null; image: string };
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
    evidence: { ...rollout.evidence, symptoms: after.map((f) => ({ code: f.code, since: f.since })) },
    next: ['aegis-ir fix rollback --dry-run'],
    since: rollout.since,
  });
  return [{ ...suspect, severity, level: levelFor(severity) }];
}
