import { describe, expect, it } from 'vitest';
import type { CheckOutcome } from '../../src/checks/runner.js';
import { classify } from '../../src/checks/verdict.js';
import { KUBERNETES_FINDINGS as F } from '../../src/checks/kubernetes/findings.js';
import { nameSuspectRollout } from '../../src/checks/kubernetes/rollout-suspect.js';
import { PROMETHEUS_FINDINGS as P } from '../../src/checks/prometheus/findings.js';
import { makeFinding, type Finding } from '../../src/core/findings.js';

function outcome(id: string, findings: Finding[], extra: Partial<CheckOutcome> = {}): CheckOutcome {
  return {
    id,
    title: id,
    target: 'cluster',
    status: findings.length ? 'findings' : 'ok',
    durationMs: 1,
    error: null,
    reason: null,
    unreachable: false,
    hint: null,
    findings,
    ...extra,
  };
}

const crashLoop = makeFinding(F.mostPodsFailing, {
  check: 'pod-health',
  params: { failing: 2, total: 4, reasons: 'CrashLoopBackOff ×2' },
  since: '2026-11-26T11:56:00Z',
});
const oom = makeFinding(F.oomKilled, { check: 'pod-health', params: { pod: 'a', container: 'api', ago: '10m', restarts: 2 } });

describe('classify', () => {
  it('takes the worst severity and names the finding that decided it', () => {
    const report = classify('triage', [outcome('pod-health', [oom, crashLoop])]);
    expect(report.severity).toBe('SEV2');
    expect(report.severityReason).toBe('AEG-1002 2 of 4 pods are failing to run (CrashLoopBackOff ×2)');
    expect(report.responseTime).toBe('30m');
    expect(report.escalation.at(-1)).toEqual({ after: '1h', to: 'Engineering Manager' });
    expect(report.findings[0]?.code).toBe('AEG-1002');
  });

  it('names several findings of one code once, counting the rest', () => {
    const other = makeFinding(F.oomKilled, { check: 'pod-health', params: { pod: 'b', container: 'api', ago: '3m', restarts: 1 } });
    const report = classify('triage', [outcome('pod-health', [oom, other])]);
    expect(report.severityReason).toBe('AEG-1004 a/api was OOMKilled 10m ago (2 restart(s)) (and 1 more like it)');
  });

  it('is healthy only when every check ran clean', () => {
    const report = classify('triage', [outcome('a', []), outcome('b', [])]);
    expect(report).toMatchObject({ severity: null, severityReason: 'all checks ok', responseTime: null, escalation: [] });
  });

  it('says in a healthy headline which checks were skipped, and that error rates were not measured', () => {
    const report = classify('triage', [
      outcome('pod-health', []),
      outcome('db-connections', [], { status: 'skipped', reason: 'no database configured (pass --database-url)' }),
      outcome('error-rate', [], { status: 'skipped', reason: 'no Prometheus configured (pass --prometheus-url)' }),
      outcome('latency', [], { status: 'skipped', reason: 'no Prometheus configured (pass --prometheus-url)' }),
    ]);
    expect(report.severityReason).toBe(
      'no problem found; 3 of 4 checks skipped: db-connections (no database configured), error-rate, latency (no Prometheus configured); ' +
        'error rates were not measured',
    );
  });

  it('says informational findings did not decide anything', () => {
    const info = makeFinding(F.recentRollout, {
      check: 'recent-rollouts',
      params: { deployment: 'aegis-api', revision: 4, cause: 'deploy', ago: '5m' },
    });
    const report = classify('triage', [outcome('recent-rollouts', [info])]);
    expect(report).toMatchObject({ severity: null, severityReason: 'no finding implies a severity (1 informational)' });
  });

  it('never reports healthy when a target was unreachable', () => {
    const report = classify('triage', [
      outcome('a', []),
      outcome('b', [], { status: 'errored', unreachable: true, error: 'connection refused', target: 'prometheus' }),
    ]);
    expect(report.severity).toBeNull();
    expect(report.severityReason).toBe('no finding among the checks that ran; unknown: prometheus unreachable (connection refused)');
    expect(report.unknown).toHaveLength(1);
  });

  it('never reports healthy when a check failed, naming it', () => {
    const report = classify('triage', [outcome('a', []), outcome('error-rate', [], { status: 'errored', error: 'Prometheus rejected the query' })]);
    expect(report.severity).toBeNull();
    expect(report.unknown).toEqual(['error-rate failed (Prometheus rejected the query)']);
  });

  it('says so when nothing could be assessed', () => {
    const report = classify('triage', [outcome('a', [], { status: 'errored', unreachable: true, error: 'refused' })]);
    expect(report.assessedNothing).toBe(true);
    expect(report.severityReason).toMatch(/^unknown: nothing could be assessed/);
  });

  it('says why when every check skipped itself', () => {
    const report = classify('diagnose db-connections', [
      outcome('db-connections', [], { status: 'skipped', reason: 'no database configured' }),
    ]);
    expect(report.assessedNothing).toBe(true);
    expect(report.severityReason).toBe('unknown: nothing could be assessed: db-connections skipped: no database configured');
  });
});

describe('nameSuspectRollout', () => {
  const now = new Date('2026-11-26T12:00:00Z');
  const rollout = makeFinding(F.recentRollout, {
    check: 'recent-rollouts',
    params: { deployment: 'aegis-api', revision: 4, cause: 'deploy api v2.4.1', ago: '5m' },
    resource: 'deployment/aegis-api',
    evidence: { current: { revision: 4, changeCause: 'deploy api v2.4.1', image: 'api:2.4.1' } },
    since: '2026-11-26T11:55:00Z',
  });

  const newPodsFailing = {
    ...crashLoop,
    evidence: { pods: [{ pod: 'aegis-api-new-a', revision: 4 }, { pod: 'aegis-api-new-b', revision: 4 }], servingRevisions: [3] },
  };

  it('names a rollout whose new pods fail while the old ones serve, with their severity and the rollback', () => {
    const [suspect] = nameSuspectRollout([rollout, newPodsFailing], now);
    expect(suspect).toMatchObject({ code: 'AEG-1021', severity: 'SEV2', level: 'error', next: ['aegis-ir fix rollback --dry-run'] });
    expect(suspect?.summary).toBe(
      'suspect: revision 4 of deployment/aegis-api (deploy api v2.4.1) rolled out 5m ago, before AEG-1002 began',
    );
    const report = classify('triage', [outcome('pod-health', [newPodsFailing]), outcome('recent-rollouts', [rollout])], [suspect as Finding]);
    expect(report.severityReason).toContain('AEG-1021');
  });

  it('does not blame a rollout for symptoms that merely post-date the pods it created', () => {
    const restartedSince = { ...oom, since: '2026-11-26T11:58:00.000Z' };
    const everywhere = makeFinding(F.healthFailingEverywhere, {
      check: 'health-exec',
      params: { command: './aegis health', pods: 3, exitCode: 1, detail: 'database: unreachable' },
      since: '2026-11-26T11:58:00Z',
    });
    const oldAndNew = { ...crashLoop, evidence: { pods: [{ pod: 'old', revision: 3 }, { pod: 'new', revision: 4 }], servingRevisions: [3] } };
    const allNew = { ...crashLoop, evidence: { pods: [{ pod: 'new', revision: 4 }], servingRevisions: [4] } };
    for (const symptom of [restartedSince, everywhere, oldAndNew, allNew, crashLoop]) {
      expect(nameSuspectRollout([rollout, symptom], now)).toEqual([]);
    }
  });

  it('names a rollout the error rate rose after, and not one it rose before', () => {
    const rate = (since: string) =>
      makeFinding(P.errorRateMajor, { check: 'error-rate', params: { rate: '60%', window: '5m', objective: '0.1%', where: '' }, since });
    expect(nameSuspectRollout([rollout, rate('2026-11-26T11:57:00Z')], now).map((f) => f.code)).toEqual(['AEG-1021']);
    expect(nameSuspectRollout([rollout, rate('2026-11-26T11:50:00Z')], now)).toEqual([]);
  });
});
