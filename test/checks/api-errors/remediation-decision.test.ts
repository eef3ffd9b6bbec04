import { describe, expect, it } from 'vitest';
import { decideApiErrorRemediation } from '../../../src/checks/api-errors/remediation-decision.js';
import { KUBERNETES_FINDINGS as K } from '../../../src/checks/kubernetes/findings.js';
import { PROMETHEUS_FINDINGS as P } from '../../../src/checks/prometheus/findings.js';
import { makeFinding } from '../../../src/core/findings.js';

const NOW = new Date('2026-11-26T12:00:00Z');
const errorRate = makeFinding(P.errorRateMajor, {
  check: 'error-rate',
  params: { rate: '60%', window: '5m', objective: '0.1%', where: '' },
  since: '2026-11-26T11:55:00Z',
});
const rollout = (at: string) =>
  makeFinding(K.recentRollout, {
    check: 'recent-rollouts',
    params: { deployment: 'aegis-api', revision: 4, cause: 'deploy api v2.4.1', ago: '10m' },
    resource: 'deployment/aegis-api',
    evidence: { current: { revision: 4, changeCause: 'deploy api v2.4.1', image: 'api:2.4.1' }, previous: null },
    since: at,
  });
const oom = makeFinding(K.oomKilled, {
  check: 'pod-health',
  params: { pod: 'a', container: 'api', ago: '2m', restarts: 3 },
  evidence: { container: 'api' },
  since: '2026-11-26T11:58:00Z',
});
const cpu = makeFinding(K.cpuNearLimit, { check: 'resource-usage', params: { pod: 'a', container: 'api', usage: '980m', limit: '1', percent: 98 } });
const component = (name: string) =>
  makeFinding(P.componentUnhealthy, {
    check: 'component-health',
    params: { component: name, metric: 'aegis_health_status', down: 3, instances: 3 },
    evidence: { component: name },
  });
const healthFailing = makeFinding(K.healthFailingEverywhere, {
  check: 'health-exec',
  params: { command: './aegis health', pods: 3, exitCode: 1, detail: 'database: unreachable (dial tcp 10.0.3.7:5432: connection refused)' },
});

const decide = (...findings: Parameters<typeof decideApiErrorRemediation>[0]) => decideApiErrorRemediation(findings, NOW);

describe('the runbook remediation decision', () => {
  it('rolls back when a rollout came before the error-rate rise, and says by how long', () => {
    const [decision] = decide(errorRate, rollout('2026-11-26T11:50:00Z'), cpu);
    expect(decision?.next).toEqual(['aegis-ir fix rollback --dry-run']);
    expect(decision?.summary).toBe(
      'likely cause: the rollout of revision 4 (deploy api v2.4.1) (5m before "Error rate: major degradation" began); ' +
        'remediation: roll back to the previous revision',
    );
    expect(decision?.evidence.alsoConsider).toEqual(['CPU saturation: scale out, then optimise the hot paths']);
  });

  it("weighs the app's own words before a rollback: database unreachable, then OOMKilled", () => {
    const [database] = decide(errorRate, rollout('2026-11-26T11:50:00Z'), healthFailing, oom);
    expect(database?.next).toEqual(['aegis-ir diagnose db-connections']);
    expect(database?.evidence.alsoConsider).toEqual([
      'out of memory: find what holds the memory (OOM history, trend, heap profile), then restart or raise the limit as it concludes',
      'the rollout of revision 4 (deploy api v2.4.1): roll back to the previous revision',
    ]);
    const [memory] = decide(errorRate, rollout('2026-11-26T11:50:00Z'), oom);
    expect(memory?.next).toEqual(['aegis-ir diagnose memory']);
  });

  it('keeps OOMKilled of a crash loop through to the decision: diagnose memory first, as the runbook orders', () => {
    const crashLoop = makeFinding(K.mostPodsFailing, {
      check: 'pod-health',
      params: { failing: 2, total: 3, reasons: 'CrashLoopBackOff (OOMKilled) ×2' },
      evidence: { pods: [{ pod: 'a', container: 'aegis-api', lastState: 'OOMKilled', revision: 3 }, { pod: 'b', container: 'aegis-api', lastState: 'OOMKilled', revision: 3 }] },
    });
    const [decision] = decide(crashLoop);
    expect(decision?.code).toBe('AEG-3055');
    expect(decision?.summary).toContain('out of memory');
    expect(decision?.next).toEqual(['aegis-ir diagnose memory']);
  });

  it('does not blame a rollout that came after the rise', () => {
    const undated = makeFinding(K.memoryNearLimit, {
      check: 'resource-usage',
      params: { pod: 'a', container: 'api', usage: '500Mi', limit: '512Mi', percent: 98 },
    });
    const [decision] = decide(errorRate, rollout('2026-11-26T11:57:00Z'), undated);
    expect(decision?.next).toEqual(['aegis-ir diagnose memory']);
  });

  it.each([
    ['CPU', [errorRate, cpu], ['aegis-ir fix scale --by 1 --dry-run']],
    ['the database, from the health command', [errorRate, healthFailing], ['aegis-ir diagnose db-connections']],
    ['the database, from component health', [errorRate, component('database')], ['aegis-ir diagnose db-connections']],
    ['an external dependency', [errorRate, component('ai_provider')], ['aegis-ir diagnose ai-provider']],
  ])('points at %s', (_cause, findings, next) => {
    const [decision] = decide(...findings);
    expect(decision?.code).toBe('AEG-3055');
    expect(decision?.next).toEqual(next);
  });

  it('says when no cause stands out, and decides nothing when nothing is wrong', () => {
    expect(decide(errorRate).map((f) => f.code)).toEqual(['AEG-3056']);
    expect(decide(rollout('2026-11-26T11:50:00Z'))).toEqual([]);
  });
});
