import { describe, expect, it } from 'vitest';
import { assessImpact } from '../../src/checks/impact.js';
import { evaluateErrorRate, type ErrorRateEvidence } from '../../src/checks/prometheus/error-rate.js';
import type { CheckOutcome } from '../../src/checks/runner.js';
import { testConfig } from '../helpers/config.js';

const config = testConfig();
const now = new Date('2026-11-26T12:00:00Z');

function outcome(id: string, status: CheckOutcome['status'], evidence?: unknown, findings: CheckOutcome['findings'] = []): CheckOutcome {
  return { id, title: id, target: 'prometheus', status, durationMs: 1, error: status === 'errored' ? 'Prometheus answered 503' : null, reason: status === 'skipped' ? 'no Prometheus configured' : null, unreachable: false, hint: null, findings, evidence };
}

const rising = [{ at: '2026-11-26T11:55:00.000Z', value: 0.6 }, { at: '2026-11-26T12:00:00.000Z', value: 0.6 }];
const evidence: ErrorRateEvidence = {
  query: 'sum(rate(errors[5m])) / sum(rate(all[5m]))',
  windowMs: 300_000,
  errorRatio: 0.6,
  routeLabel: 'route',
  routes: [
    { route: 'GET /api/v1/findings', requestsPerSecond: 40, errorsPerSecond: 24.8, errorRatio: 0.62 },
    { route: 'POST /api/v1/scans', requestsPerSecond: 10, errorsPerSecond: 5.8, errorRatio: 0.58 },
    { route: 'GET /healthz', requestsPerSecond: 5, errorsPerSecond: 0, errorRatio: 0 },
  ],
  trend: rising,
};

describe('the impact assessment', () => {
  it('counts failed requests per minute and the share of traffic from the error-rate evidence, naming the failing endpoints', () => {
    const findings = evaluateErrorRate(evidence, { config, now });
    const impact = assessImpact([outcome('error-rate', 'findings', evidence, findings)], findings, 'SEV2', config);
    expect(impact.failedRequestsPerMinute).toMatchObject({ value: 1836, why: null });
    expect(impact.failedRequestsPerMinute.evidence[0]).toContain('1836 of 3300 requests per minute');
    expect(impact.shareOfTraffic).toMatchObject({ value: 0.6 });
    expect(impact.endpoints.value?.map((e) => e.route)).toEqual(['GET /api/v1/findings', 'POST /api/v1/scans']);
    expect(impact.startedAt).toMatchObject({ value: '2026-11-26T11:55:00.000Z' });
  });

  it('says why traffic is unknown when the error-rate check errored, rather than reporting no failures', () => {
    const impact = assessImpact([outcome('error-rate', 'errored')], [], 'SEV3', config);
    expect(impact.failedRequestsPerMinute).toEqual({ value: null, evidence: [], why: 'error-rate errored: Prometheus answered 503' });
    expect(impact.shareOfTraffic.value).toBeNull();
    expect(impact.endpoints.why).toMatch(/errored/);
    expect(impact.dataAtRisk.value).toBeNull();
  });

  it('reports no data at risk only when the database and the pods were both assessed', () => {
    const ok = assessImpact([outcome('db-connections', 'ok'), outcome('pod-health', 'ok')], [], null, config);
    expect(ok.dataAtRisk).toMatchObject({ value: false });
    const skipped = assessImpact([outcome('db-connections', 'skipped'), outcome('pod-health', 'ok')], [], null, config);
    expect(skipped.dataAtRisk).toMatchObject({ value: null, why: expect.stringMatching(/no database configured/) });
  });
});
