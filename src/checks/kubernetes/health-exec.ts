import { makeFinding, type Finding } from '../../core/findings.js';
import { mapLimited } from '../../core/concurrency.js';
import type { ExecResult } from '../../kube/port.js';
import { SkipCheck, defineCheck, type EvaluationEnv } from '../check.js';
import { KUBERNETES_FINDINGS as F } from './findings.js';
import { isPodReady } from './pod-health.js';

/** Output kept per run in the evidence. */
const OUTPUT_CHARS = 2000;

export interface HealthRun extends ExecResult {
  pod: string;
}

/** Evidence of the health check: the command and its result in each pod it ran in. */
export interface HealthEvidence {
  command: string;
  runs: HealthRun[];
}

/**
 * Health (`kubectl exec deployment/aegis-api -- ./aegis health`): runs the app's own health command
 * in one ready pod through the exec API. When it fails there, it runs in every other candidate pod
 * too, because "failing on every pod" (SEV1: a shared dependency such as the database is down)
 * and "failing on one" (SEV3) call for different responses.
 */
export const healthExecCheck = defineCheck<HealthEvidence>({
  id: 'health-exec',
  title: 'App health command',
  target: 'cluster',
  async collect(ctx) {
    const kube = await ctx.kube();
    const { selector, healthCommand } = ctx.config.app;
    const pods = await kube.listPods(selector);
    const containerOf = (p: (typeof pods)[number]) => ctx.config.app.container ?? p.spec?.containers?.[0]?.name ?? '';
    const running = pods.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    // Ready pods first: they are what serves traffic. Unready but running pods still say why.
    const candidates = [...running.filter(isPodReady), ...running.filter((p) => !isPodReady(p))].filter((p) =>
      p.status?.containerStatuses?.some((c) => c.name === containerOf(p) && c.state?.running),
    );
    const [first, ...rest] = candidates;
    if (!first) throw new SkipCheck(`no running ${selector} pod to run ${healthCommand.join(' ')} in`);
    const run = async (pod: typeof first): Promise<HealthRun> => {
      const name = pod.metadata?.name ?? '';
      const result = await kube.exec(name, containerOf(pod), healthCommand);
      return { pod: name, exitCode: result.exitCode, stdout: result.stdout.slice(0, OUTPUT_CHARS), stderr: result.stderr.slice(0, OUTPUT_CHARS) };
    };
    const firstRun = await run(first);
    const runs = firstRun.exitCode === 0 ? [firstRun] : [firstRun, ...(await mapLimited(rest, 4, run))];
    return { command: healthCommand.join(' '), runs };
  },
  evaluate: evaluateHealth,
});

export function evaluateHealth(evidence: HealthEvidence, _env: EvaluationEnv): Finding[] {
  const failed = evidence.runs.filter((r) => r.exitCode !== 0);
  const [sample] = failed;
  if (!sample) return [];
  const detail = failureDetail(sample);
  const common = {
    check: 'health-exec',
    resource: failed.length === 1 ? `pod/${sample.pod}` : null,
    evidence: { runs: evidence.runs.map((r) => ({ pod: r.pod, exitCode: r.exitCode, output: (r.stdout + r.stderr).trim() })) },
    // A database the app cannot reach is the runbook's "Database Connection Failures".
    next: ['aegis-ir diagnose api-errors', ...(/database|postgres/i.test(detail) ? ['aegis-ir diagnose db-connections'] : [])],
  };
  return [
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
