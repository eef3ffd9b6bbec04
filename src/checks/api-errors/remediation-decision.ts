import { AI_COMPONENT } from '../ai-provider/status-page.js';
import { formatDuration } from '../../core/duration.js';
import { makeFinding, type Finding, type FindingKind } from '../../core/findings.js';
import { CATALOGUE } from '../catalogue.js';
import { KUBERNETES_FINDINGS as K } from '../kubernetes/findings.js';
import { DIAGNOSE_MEMORY } from '../kubernetes/pod-health.js';
import { nameSuspectRollout } from '../kubernetes/rollout-suspect.js';
import { PROMETHEUS_FINDINGS as P } from '../prometheus/findings.js';
import { API_ERROR_FINDINGS as F } from './findings.js';

/** One branch of the runbook's remediation list, when the evidence points at it. */
interface Cause {
  cause: string;
  evidence: string;
  action: string;
  next: string[];
}

/** Health output or database findings that say the app cannot reach its database. */
const DATABASE_TROUBLE = /database|postgres|\bpg\b|sql|too many connections|connection refused/i;
const DATABASE_COMPONENTS = new Set(['database', 'db', 'postgres', 'postgresql']);

/**
 * The runbook's remediation decision for a high error rate, made from the evidence: database → check
 * the connection pool; OOM → raise memory limits; a rollout the evidence points at → roll back; CPU →
 * scale out; external dependency → check its status and enable the fallback. The first that applies
 * is chosen, and the others are listed: what the app itself says (its health command naming the
 * database, a container killed for memory) is weighed before a rollback, which would not bring a
 * database back or give a container more memory. Nothing is decided when nothing is wrong.
 */
export function decideApiErrorRemediation(findings: Finding[], now: Date): Finding[] {
  const symptoms = findings.filter((f) => f.severity !== null);
  if (!symptoms.length) return [];
  const causes = [database(findings), outOfMemory(findings), rollout(findings, now), cpu(findings), dependency(findings)].filter(
    (c): c is Cause => c !== null,
  );
  const [chosen, ...others] = causes;
  if (!chosen) {
    return [
      makeFinding(F.noCause, {
        check: 'api-errors',
        params: { symptoms: [...new Set(symptoms.map((s) => titleOf(s.code)))].join(', ') },
        evidence: { symptoms: symptoms.map((s) => s.code) },
      }),
    ];
  }
  return [
    makeFinding(F.remediation, {
      check: 'api-errors',
      params: chosen,
      evidence: others.length ? { alsoConsider: others.map((o) => `${o.cause}: ${o.action}`) } : {},
      next: chosen.next,
    }),
  ];
}

function rollout(findings: Finding[], now: Date): Cause | null {
  const [suspect] = nameSuspectRollout(findings, now);
  if (!suspect?.since) return null;
  const current = suspect.evidence.current as { revision: number; changeCause: string | null; image: string };
  const symptoms = (suspect.evidence.symptoms as Array<{ code: string; since: string }>).sort((a, b) => a.since.localeCompare(b.since));
  const first = symptoms[0] as { code: string; since: string };
  const lagMs = Date.parse(first.since) - Date.parse(suspect.since);
  return {
    cause: `the rollout of revision ${current.revision} (${current.changeCause ?? current.image})`,
    evidence: `${lagMs < 1000 ? 'just' : formatDuration(lagMs)} before "${titleOf(first.code)}" began`,
    action: 'roll back to the previous revision',
    next: ['aegis-ir fix rollback --dry-run'],
  };
}

function outOfMemory(findings: Finding[]): Cause | null {
  const crashLooping = having(findings, K.mostPodsFailing, K.somePodsFailing).filter((f) => oomKilledContainers(f).length);
  const oom = [...crashLooping, ...having(findings, K.oomKilled, K.memoryNearLimit)];
  if (!oom.length) return null;
  return {
    cause: 'out of memory',
    evidence: describe(oom),
    // The runbook diagnoses before it remediates: diagnose memory ends with the restart or limit that fits.
    action: 'find what holds the memory (OOM history, trend, heap profile), then restart or raise the limit as it concludes',
    next: [DIAGNOSE_MEMORY],
  };
}

/** The containers of a crash loop's pods whose last instance was OOMKilled. */
function oomKilledContainers(finding: Finding): string[] {
  const pods = (finding.evidence.pods ?? []) as Array<{ container?: string | null; lastState?: string | null }>;
  return pods.filter((p) => p.lastState === 'OOMKilled' && p.container).map((p) => p.container as string);
}

function cpu(findings: Finding[]): Cause | null {
  const hot = having(findings, K.cpuNearLimit);
  if (!hot.length) return null;
  return {
    cause: 'CPU saturation',
    evidence: describe(hot),
    action: 'scale out, then optimise the hot paths',
    next: ['aegis-ir fix scale --by 1 --dry-run'],
  };
}

function database(findings: Finding[]): Cause | null {
  const trouble = findings.filter(
    (f) =>
      (f.check === 'db-connections' && f.severity !== null) ||
      (f.code === P.componentUnhealthy.code && DATABASE_COMPONENTS.has(String(f.evidence.component))) ||
      ((f.code === K.healthFailingEverywhere.code || f.code === K.healthFailingSome.code) && DATABASE_TROUBLE.test(f.summary)),
  );
  if (!trouble.length) return null;
  return {
    cause: 'database connections',
    evidence: describe(trouble),
    action: 'check the connection pool and the database health',
    next: ['aegis-ir diagnose db-connections'],
  };
}

function dependency(findings: Finding[]): Cause | null {
  const down = having(findings, P.componentUnhealthy).filter((f) => !DATABASE_COMPONENTS.has(String(f.evidence.component)));
  if (!down.length) return null;
  return {
    cause: `external dependency ${down.map((f) => String(f.evidence.component)).join(', ')}`,
    evidence: describe(down),
    action: "check the provider's status page and enable the fallback provider in the config",
    next: down.some((f) => f.evidence.component === AI_COMPONENT) ? ['aegis-ir diagnose ai-provider'] : [],
  };
}

function having(findings: Finding[], ...kinds: Array<FindingKind<never>>): Finding[] {
  return findings.filter((f) => kinds.some((k) => k.code === f.code));
}

function describe(findings: Finding[]): string {
  const [first] = findings;
  return `${first?.code} ${first?.summary}${findings.length > 1 ? ` and ${findings.length - 1} more` : ''}`;
}

function titleOf(code: string): string {
  return CATALOGUE.find((k) => k.code === code)?.title ?? code;
}
