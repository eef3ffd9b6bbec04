import { describe, expect, it } from 'vitest';
import { componentHealthCheck } from '../../../src/checks/prometheus/component-health.js';
import { errorRateCheck, evaluateErrorRate } from '../../../src/checks/prometheus/error-rate.js';
import { findingsTrendCheck } from '../../../src/checks/prometheus/findings-trend.js';
import { evaluateLatency, latencyCheck, type LatencyEvidence } from '../../../src/checks/prometheus/latency.js';
import { describeEvaluations, loadFixtures } from '../../helpers/fixtures.js';
import { testConfig } from '../../helpers/config.js';

describeEvaluations([errorRateCheck, latencyCheck, componentHealthCheck, findingsTrendCheck]);

describe('what the summaries name', () => {
  const env = { config: testConfig(), now: new Date('2026-11-26T12:00:00Z') };
  const fixture = (check: string, name: string) => loadFixtures(check).find((f) => f.name === name)?.evidence;

  it('names the slow endpoint and how many others are fine', () => {
    const [finding] = evaluateLatency(fixture('latency', 'one-endpoint-slow') as LatencyEvidence, env);
    expect(finding?.summary).toBe(
      'endpoint GET /api/findings is slow: p99 800ms (objective < 500ms) while 2 other endpoint(s) are within it',
    );
  });

  it('names the endpoint the errors come from when they are not spread evenly', () => {
    const [finding] = evaluateErrorRate(fixture('error-rate', 'above-objective-rising') as never, env);
    expect(finding?.summary).toBe(
      'error rate 2% of requests over the last 5m (objective < 0.1%) mostly on POST /api/scans (100% of the errors, 6% of its requests fail)',
    );
    expect(finding?.next).toEqual(['aegis-ir diagnose api-errors']);
  });
});
