import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { RuleGroups } from '../../src/prometheus/rules.js';
import { findBinary } from '../helpers/binary.js';
import { runCaptured } from '../helpers/cli.js';
import { prometheusBinary, startExporter, startPrometheus, until, type RunningPrometheus } from '../helpers/prometheus.js';

// Under CI=true findBinary fails the run when promtool (Debian's prometheus package) is missing.
const promtool = findBinary('promtool', 'PROMTOOL_BIN', 'apt-get install -y prometheus');
if ('missing' in promtool) console.warn(`skipping the promtool checks: ${promtool.missing}`);
const prometheus = prometheusBinary();
if ('missing' in prometheus) console.warn(`skipping the rules-in-Prometheus test: ${prometheus.missing}`);

const dir = mkdtempSync(join(tmpdir(), 'aegis-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `monitoring rules` with a config file holding `config`. */
async function rules(args: string[] = [], config: Record<string, unknown> = {}) {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(config));
  return runCaptured(['monitoring', 'rules', '--config', file, ...args]);
}

const byName = (groups: RuleGroups) => Object.fromEntries(groups.groups.flatMap((g) => g.rules).map((r) => [r.alert, r]));

/** What `promtool check rules` says of `text`, and whether it accepted it. */
function promtoolCheck(text: string): { ok: boolean; output: string } {
  const file = join(dir, `rules-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, text);
  try {
    return { ok: true, output: execFileSync((promtool as { path: string }).path, ['check', 'rules', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('monitoring rules', () => {
  it('prints a rule per key metric at the configured thresholds, each naming its runbook section and diagnosis', async () => {
    const run = await rules([], { thresholds: { errorRate: { sev3: 0.002, sev2: 0.4, sev1: 0.9 }, latencyP99: '750ms', connectionSaturation: 0.7 } });
    expect(run.code).toBe(0);
    const r = byName(parse(run.stdout) as RuleGroups);
    expect(Object.keys(r).sort()).toEqual([
      'AegisAIProviderUnhealthy',
      'AegisDatabaseConnectionsNearLimit',
      'AegisErrorRateAboveObjective',
      'AegisErrorRateMajor',
      'AegisErrorRateOutage',
      'AegisLatencyP99High',
      'AegisMemoryReachesLimit',
    ]);
    expect(r.AegisErrorRateAboveObjective?.expr).toMatch(/ > 0\.002$/);
    expect(r.AegisErrorRateMajor?.expr).toMatch(/ > 0\.4$/);
    expect(r.AegisErrorRateOutage?.expr).toMatch(/ > 0\.9$/);
    expect([r.AegisErrorRateAboveObjective, r.AegisErrorRateMajor, r.AegisErrorRateOutage].map((x) => x?.labels.severity)).toEqual(['SEV3', 'SEV2', 'SEV1']);
    expect(r.AegisLatencyP99High?.expr).toBe('histogram_quantile(0.99, sum by (le) (rate(aegis_http_request_duration_seconds_bucket[5m]))) > 0.75');
    expect(r.AegisAIProviderUnhealthy?.expr).toBe('aegis_health_status{component="ai_provider"} == 0');
    expect(r.AegisDatabaseConnectionsNearLimit?.expr).toMatch(/ > 0\.7$/);
    expect(r.AegisMemoryReachesLimit?.expr).toContain('predict_linear(container_memory_working_set_bytes{');
    expect(r.AegisMemoryReachesLimit?.expr).toContain('kube_pod_container_resource_limits{resource="memory"}');
    expect(r.AegisAIProviderUnhealthy?.annotations).toMatchObject({
      runbook: 'aegis-ir runbook issue-ai-provider-timeouts',
      diagnose: 'aegis-ir diagnose ai-provider',
    });
    for (const rule of Object.values(r)) {
      expect(rule.for).toBe('5m');
      expect(rule.annotations.runbook).toMatch(/^aegis-ir runbook [a-z0-9-]+$/);
      expect(rule.annotations.diagnose).toMatch(/^aegis-ir diagnose (api-errors|db-connections|ai-provider|memory)$/);
    }
  });

  it('scopes every selector of every rule by prometheus.matchers', async () => {
    const run = await rules([], { prometheus: { matchers: 'namespace="aegis", job=~"aegis-api|aegis-worker"' } });
    expect(run.code).toBe(0);
    const metric = /([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\}|\[|\)| |$)/g;
    const functions = new Set(['rate', 'sum', 'max', 'by', 'on', 'or', 'vector', 'histogram_quantile', 'predict_linear', 'le', 'namespace', 'pod', 'container']);
    let selectors = 0;
    for (const rule of Object.values(byName(parse(run.stdout) as RuleGroups))) {
      const expr = rule.expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      for (const [, name, after] of expr.matchAll(metric)) {
        if (functions.has(name!) || /^\d/.test(name!)) continue;
        selectors += 1;
        expect(`${name}${after}`, `${rule.alert}: ${rule.expr}`).toMatch(/^\w+\{namespace="", job=~""/);
      }
    }
    expect(selectors).toBe(13);
  });

  it('with --for 0s fires as soon as the condition holds; a bad --for names the flag', async () => {
    const now = await rules(['--for', '0s']);
    expect(Object.values(byName(parse(now.stdout) as RuleGroups)).map((r) => r.for)).not.toContain(expect.anything());
    const bad = await rules(['--for', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--for: "soon" is not valid; expected a duration');
  });

  it('prints a PrometheusRule with -o yaml holding the same rules', async () => {
    const [file, object] = await Promise.all([rules(), rules(['-o', 'yaml'], { namespace: 'payments' })]);
    const rule = parse(object.stdout) as { apiVersion: string; kind: string; metadata: { namespace: string }; spec: RuleGroups };
    expect(rule).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'aegis-ir', namespace: 'payments' } });
    expect(rule.spec).toEqual(parse(file.stdout));
  });

  it('prints the same PrometheusRule in a schemaVersion 1 document with -o json', async () => {
    const [object, json] = await Promise.all([rules(['-o', 'yaml']), rules(['-o', 'json'])]);
    expect(JSON.parse(json.stdout)).toEqual({ schemaVersion: 1, command: 'monitoring rules', prometheusRule: parse(object.stdout) });
  });

  describe.skipIf('missing' in promtool)('promtool check rules', () => {
    it('accepts the rules file and the PrometheusRule spec, with matchers that need quoting', async () => {
      const config = { prometheus: { matchers: 'namespace="a\\"b", job!="x"' } };
      const file = promtoolCheck((await rules([], config)).stdout);
      expect(file.output).toContain('SUCCESS: 7 rules found');
      expect(file.ok).toBe(true);
      const spec = (parse((await rules(['-o', 'yaml'], config)).stdout) as { spec: RuleGroups }).spec;
      expect(promtoolCheck(stringify(spec)).output).toContain('SUCCESS: 7 rules found');
    });

    it('is a check that can fail: promtool rejects a rule whose expression does not parse', async () => {
      const groups = parse((await rules()).stdout) as RuleGroups;
      groups.groups[0]!.rules[0]!.expr = 'sum(rate(' as never;
      expect(promtoolCheck(stringify(groups)).ok).toBe(false);
    });
  });
});

describe.skipIf('missing' in prometheus)('monitoring rules in a real Prometheus', () => {
  let server: RunningPrometheus | undefined;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    const exporter = await startExporter([
      {
        prefix: 'aegis',
        traffic: [{ route: 'GET /api/findings', requests: 200, errorRatio: 0.02, latencies: [[0.04, 1]] }],
        health: { database: 1, ai_provider: 0 },
      },
    ]);
    stops.push(exporter.stop);
    const run = await rules(['--for', '0s']);
    expect(run.code).toBe(0);
    server = await startPrometheus((prometheus as { path: string }).path, [exporter.target], run.stdout);
    stops.push(server.stop);
  });
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  interface RuleState {
    name: string;
    state: string;
    health: string;
    lastError?: string;
  }
  async function ruleStates(): Promise<RuleState[]> {
    const body = (await (await fetch(`${server!.url}/api/v1/rules?type=alert`)).json()) as { data: { groups: Array<{ rules: RuleState[] }> } };
    return body.data.groups.flatMap((g) => g.rules);
  }

  it('fires the error-rate and AI provider rules on the exporter, and not the SEV2 and SEV1 ones', async () => {
    let states: RuleState[] = [];
    const state = (name: string) => states.find((s) => s.name === name)?.state;
    await until(
      async () => {
        states = await ruleStates();
        return state('AegisErrorRateAboveObjective') === 'firing' && state('AegisAIProviderUnhealthy') === 'firing';
      },
      30_000,
      () => `rules did not fire: ${JSON.stringify(states)}`,
    );
    expect(states).toHaveLength(7);
    for (const s of states) expect(s, s.name).toMatchObject({ health: 'ok' });
    expect(state('AegisErrorRateMajor')).toBe('inactive');
    expect(state('AegisErrorRateOutage')).toBe('inactive');
    const alerts = (await (await fetch(`${server!.url}/api/v1/alerts`)).json()) as {
      data: { alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string> }> };
    };
    const objective = alerts.data.alerts.find((a) => a.labels.alertname === 'AegisErrorRateAboveObjective');
    expect(objective?.labels).toMatchObject({ severity: 'SEV3', code: 'AEG-3003' });
    expect(objective?.annotations).toMatchObject({ runbook: 'aegis-ir runbook issue-high-api-error-rate', diagnose: 'aegis-ir diagnose api-errors' });
    expect(objective?.annotations.summary).toBe('Error rate 2% is above 0.1% (SEV3)');
  }, 60_000);
});
