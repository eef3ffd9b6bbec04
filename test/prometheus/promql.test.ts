import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/core/config-file.js';
import { componentHealthCheck } from '../../src/checks/prometheus/component-health.js';
import { parseMatchers, selector } from '../../src/prometheus/promql.js';
import type { PrometheusPort } from '../../src/prometheus/port.js';
import { promQueries } from '../../src/prometheus/queries.js';
import { testConfig } from '../helpers/config.js';
import { testContext } from '../helpers/context.js';

describe('the PromQL builder', () => {
  it('scopes every selector with prometheus.matchers, quoting values so they cannot break the query', () => {
    const q = promQueries(testConfig({ 'prometheus.matchers': 'namespace="aegis", job=~"aegis-(api|worker)"', 'prometheus.errorStatus': '5.."}' }).prometheus);
    expect(q.errorRatio).toBe(
      '(sum(rate(aegis_http_requests_total{namespace="aegis", job=~"aegis-(api|worker)", status=~"5..\\"}"}[5m])) or vector(0)) / ' +
        'sum(rate(aegis_http_requests_total{namespace="aegis", job=~"aegis-(api|worker)"}[5m]))',
    );
    expect(q.healthByComponent).toBe('min by (component) (aegis_health_status{namespace="aegis", job=~"aegis-(api|worker)"})');
    expect(q.requestSeries).toBe('count(aegis_http_requests_total{namespace="aegis", job=~"aegis-(api|worker)"})');
  });

  it('keeps the runbook queries unchanged without matchers', () => {
    const q = promQueries(testConfig().prometheus);
    expect(q.errorRatio).toBe('(sum(rate(aegis_http_requests_total{status=~"5.."}[5m])) or vector(0)) / sum(rate(aegis_http_requests_total[5m]))');
    expect(q.latencyP99).toBe('histogram_quantile(0.99, sum by (le) (rate(aegis_http_request_duration_seconds_bucket[5m])))');
  });

  it('refuses a metric name that is a selector', () => {
    expect(() => selector('aegis_http_requests_total{job="x"}')).toThrow('not a PromQL metric name');
  });

  it('reads matchers as written, and says where it cannot', () => {
    expect(parseMatchers('a="1",b!~"x\\"y"')).toEqual([
      { label: 'a', op: '=', value: '1' },
      { label: 'b', op: '!~', value: 'x"y' },
    ]);
    expect(parseMatchers('')).toEqual([]);
    expect(parseMatchers('namespace=aegis')).toEqual({ error: 'cannot read a label matcher at "namespace=aegis"' });
  });
});

/** `{'a.b': 1}` as `{a: {b: 1}}`, as the file holds it. */
function nested(flat: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const [head, ...rest] = key.split('.');
    out[head as string] = rest.length ? nested({ [rest.join('.')]: value }) : value;
  }
  return out;
}

describe('configuration of the metric names, matchers and thresholds', () => {
  it.each([
    [{ 'prometheus.matchers': 'namespace=aegis' }, /prometheus\.matchers: "namespace=aegis" is not valid; expected label matchers such as namespace="aegis"/],
    [{ 'prometheus.metrics': { requests: 'aegis_http_requests_total{job="api"}' } }, /prometheus\.metrics\.requests: "aegis_http_requests_total\{job=\\"api\\"\}" is not valid; expected a PromQL metric name .*prometheus\.matchers/],
    [{ thresholds: { errorRate: { sev3: 0.001, sev2: 0.5, sev1: 0.2 } } }, /thresholds\.errorRate\.sev1: 0\.2 is not valid; expected a ratio above sev2 \(0\.5\)/],
    [{ thresholds: { errorRate: { sev3: 0.6 } } }, /thresholds\.errorRate\.sev2: 0\.5 is not valid; expected a ratio above sev3 \(0\.6\) and below sev1/],
  ])('refuses %j in the config file, naming the key', (settings, message) => {
    const file = join(mkdtempSync(join(tmpdir(), 'aegis-config-')), 'config.yaml');
    writeFileSync(file, stringify(nested(settings)));
    expect(() => loadConfig({ file, env: { HOME: '/nonexistent' }, flags: {} })).toThrow(message);
  });
});

describe('component health', () => {
  it('is unknown, not healthy, when the app reports NaN', async () => {
    const port: PrometheusPort = {
      url: 'http://prometheus.test',
      query: async () => [
        { labels: { component: 'database', instance: 'a' }, value: 1 },
        { labels: { component: 'ai_provider', instance: 'a' }, value: Number.NaN },
      ],
      queryRange: async () => [],
    };
    const ctx = testContext({ config: testConfig({ 'prometheus.url': port.url }), prometheus: async () => port });
    await expect(componentHealthCheck.collect(ctx)).rejects.toThrow('aegis_health_status{component="ai_provider"} is NaN: the app reports no health for it');
  });
});
