import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config-file.js';
import { promQueries } from '../../src/prometheus/queries.js';

const load = (env: Record<string, string> = {}, flags: Record<string, unknown> = {}) =>
  loadConfig({ env: { HOME: '/nonexistent', ...env }, flags });

describe('prometheus configuration', () => {
  it('takes the URL from the flag over PROMETHEUS_URL, and the token from the environment', () => {
    const config = load(
      { PROMETHEUS_URL: 'http://env:9090', AEGIS_IR_PROMETHEUS_TOKEN: 'tok' },
      { 'prometheus.url': 'http://flag:9090' },
    );
    expect(config.prometheus.url).toBe('http://flag:9090');
    expect(config.prometheus.token).toBe('tok');
    expect(load({ PROMETHEUS_URL: 'http://env:9090' }).prometheus.url).toBe('http://env:9090');
  });

  it('names the variable and the expectation when the URL is not one', () => {
    expect(() => load({ PROMETHEUS_URL: 'prometheus:9090' })).toThrow(
      /environment variable PROMETHEUS_URL: prometheus\.url: "prometheus:9090" is not valid/,
    );
  });

  it("builds the runbook's queries from the defaults", () => {
    const q = promQueries(load().prometheus);
    expect(q.errorRatio).toBe(
      '(sum(rate(aegis_http_requests_total{status=~"5.."}[5m])) or vector(0)) / sum(rate(aegis_http_requests_total[5m]))',
    );
    expect(q.latencyP99).toBe('histogram_quantile(0.99, sum by (le) (rate(aegis_http_request_duration_seconds_bucket[5m])))');
    expect(q.healthByComponent).toBe('min by (component) (aegis_health_status)');
  });

  it('uses configured names and windows', () => {
    const q = promQueries(load({}, { 'prometheus.rateWindow': '90s', 'prometheus.routeLabels': ['handler'], 'prometheus.metrics.requests': 'http_total' }).prometheus);
    expect(q.requestsByRoute).toBe('sum by (handler) (rate(http_total[90s]))');
  });
});
