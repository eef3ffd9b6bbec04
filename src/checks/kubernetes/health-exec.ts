import type { V1Pod } from '@kubernetes/client-node';
import { makeFinding, type Finding } from '../../core/findings.js';
import { mapLimited } from '../../core/concurrency.js';
import type { ExecResult } from '../../kube/port.js';
import { SkipCheck, defineCheck, type EvaluationEnv } from '../check.js';
import { KUBERNETES_FINDINGS as F } from './findings.js';
import { isPodReady } from './pod-health.js';
import { appContainerName, workloadSnapshot } from './snapshot.js';

/** Output kept per run in the evidence. */
const OUTPUT_CHARS = 2000;

export interface HealthRun extends ExecResult {
  pod: string;
}

/** Evidence of the health check: the command and its result in each pod it ran in. */
export interface HealthEvidence {
  command: string;
  runs: HealthRun[];
  /** Pods the command could not be run in (the exec API failed there), and why. */
  unrun?: Array<{ pod: string; error: string }>;
}

/**
 * Health (`kubectl exec deployment/aegis-api -- ./aegis health`): runs the app's own health command
 * in the app container (kubectl's default container, not a sidecar listed first) of one ready pod of
 * the Deployment through the exec API. When it fails there, it runs in every other candidate pod
 * too, because "failing on every pod" (SEV1: a shared dependency such as the database is down) and
 * "failing on one" (SEV3) call for different responses. An exec that fails in one pod is that pod's
 * evidence; the next pod is tried.
 */
export const healthExecCheck = defineCheck<HealthEvidence>({
  id: 'health-exec',
  title: 'App health command',
  target: 'cluster',
  async collect(ctx) {
    const [kube, snapshot] = await Promise.all([ctx.kube(), workloadSnapshot(ctx)]);
    const { healthCommand } = ctx.config.app;
    const containerOf = (p: V1Pod) => appContainerName(p, ctx.config.app);
    const running = snapshot.pods.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    // Ready pods first: they are what serves traffic. Unready but running pods still say why.
    const candidates = [...running.filter(isPodReady), ...running.filter((p) => !isPodReady(p))].filter((p) =>
      p.status?.containerStatuses?.some((c) => c.name === containerOf(p) && c.state?.running),
    );
    if (!candidates.length) throw new SkipCheck(`no running pod of deployment/${snapshot.name} to run ${healthCommand.join(' ')} in`);
    const unrun: Array<{ pod: string; error: string }> = [];
    const run = async (pod: V1Pod): Promise<HealthRun[]> => {
      const name = pod.metadata?.name ?? '';
      try {
        const result = await kube.exec(name, containerOf(pod), healthCommand, ctx.signal);
        return [{ pod: name, exitCode: result.exitCode, stdout: result.stdout.slice(0, OUTPUT_CHARS), stderr: result.stderr.slice(0, OUTPUT_CHARS) }];
      } catch (error) {
        unrun.push({ pod: name, error: (error as Error).message });
        return [];
      }
    };
    const runs: HealthRun[] = [];
    let next = 0;
    // Until the command has run somewhere; then, if it failed there, everywhere else.
    while (!runs.length && next < candidates.length) runs.push(...(await run(candidates[next++] as V1Pod)));
    if (runs[0] && runs[0].exitCode !== 0) runs.push(...(await mapLimited(candidates.slice(next), 4, run)).flat());
    if (!runs.length) throw new Error(`${healthCommand.join(' ')} could not be run in any pod: ${unrun[0]?.pod}: ${unrun[0]?.error}`);
    return { command: healthCommand.join(' '), runs, unrun };
  },
  evaluate: evaluateHealth,
});

export function evaluateHealth(evidence: HealthEvidence, _env: EvaluationEnv): Finding[] {
  const unrun = evidence.unrun ?? [];
  const notRun = unrun.length
    ? [
        makeFinding(F.healthExecFailed, {
          check: 'health-exec',
          params: { command: evidence.command, pods: unrun.length, of: unrun.length + evidence.runs.length, detail: `${unrun[0]?.pod}: ${unrun[0]?.error}` },
          resource: unrun.length === 1 ? `pod/${unrun[0]?.pod}` : null,
          evidence: { unrun },
        }),
      ]
    : [];
  const failed = evidence.runs.filter((r) => r.exitCode !== 0);
  const [sample] = failed;
  if (!sample) return notRun;
  const detail = failureDetail(sample);
  const common = {
    check: 'health-exec',
    resource: failed.length === 1 ? `pod/${sample.pod}` : null,
    evidence: { runs: evidence.runs.map((r) => ({ pod: r.pod, exitCode: r.exitCode, output: (r.stdout + r.stderr).trim() })) },
    // A database the app cannot reach is the runbook's "Database Connection Failures".
    next: ['aegis-ir diagnose api-errors', ...(/database|postgres/i.test(detail) ? ['aegis-ir diagnose db-connections'] : [])],
  };
  return [
    ...notRun,
    failed.length === evidence.runs.length
      ? makeFinding(F.healthFailingEverywhere, {
          ...common,
          params: { command: evidence.command, pods: failed.length, exitCode: sample.exitCode, detail },
        })
      : makeFinding(F.healthFailingSome, {
          ...common,
          params: { command: evidence.command, failing: failed.length, pods: evidence.runs.length, exitCode: sample.exitCode, detail },
        }),
  ];
}

const FAILING = /unreachable|fail|error|down|timeout|refused|unhealthy/i;

/**
 * The most telling lines of a failed health run: the components that report a failure (not the
 * overall "status: unhealthy" line), else any failing line, else the last line.
 */
function failureDetail(run: ExecResult): string {
  const lines = `${run.stdout}\n${run.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
  const components = lines.filter((l) => FAILING.test(l) && !/^status\s*:/i.test(l));
  if (components.length) return components.slice(0, 2).join('; ');
  return lines.find((l) => FAILING.test(l)) ?? lines[lines.length - 1] ?? 'no output';
}
