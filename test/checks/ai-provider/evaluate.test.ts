import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aiSettingsCheck } from '../../../src/checks/ai-provider/ai-settings.js';
import { aiFeatureBroken, decideAiProviderRemediation } from '../../../src/checks/ai-provider/decision.js';
import { evaluateProviderLogs, providerLogsCheck, scanAiErrors } from '../../../src/checks/ai-provider/provider-logs.js';
import { evaluateStatusPage } from '../../../src/checks/ai-provider/status-page.js';
import { evaluateComponentHealth } from '../../../src/checks/prometheus/component-health.js';
import { classify } from '../../../src/checks/verdict.js';
import type { Finding } from '../../../src/core/findings.js';
import { summarise, type StatusSummary } from '../../../src/http/statuspage.js';
import { testConfig } from '../../helpers/config.js';
import { describeEvaluations } from '../../helpers/fixtures.js';

describeEvaluations([providerLogsCheck, aiSettingsCheck]);

const env = { config: testConfig(), now: new Date('2026-11-26T12:00:00Z') };
const page = (name: string, provider: string): Finding[] => {
  const summary = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'statuspage', `${name}.json`), 'utf8')) as StatusSummary;
  return evaluateStatusPage(summarise({ name: provider, statusPage: 'https://status.example' }, 'https://status.example', summary), env);
};
const aiHealth = (unhealthy: number) =>
  evaluateComponentHealth({ metric: 'aegis_health_status', components: [{ component: 'ai_provider', instances: 3, unhealthy, trend: [] }] }, env);
const settings = (fallback: string, cache = 'false') =>
  aiSettingsCheck.evaluate({ configMap: 'aegis-api-config', settings: { fallback, timeout: '30s', cache, mode: 'ai' }, keys: testConfig().aiProvider.keys }, env);

describe('AI provider log lines', () => {
  it("sorts the SDKs' real error lines into kinds and names the provider where the line does", () => {
    const log = [
      '2026-11-26T11:41:12Z ERROR ai: RateLimitError: 429 {"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}',
      "2026-11-26T11:41:13Z ERROR ai: openai.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4o', 'type': 'requests', 'param': None, 'code': 'rate_limit_exceeded'}}",
      '2026-11-26T11:41:14Z ERROR ai: InternalServerError: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
      '2026-11-26T11:41:15Z WARN ai: provider=anthropic request failed: APITimeoutError: Request timed out.',
      "2026-11-26T11:41:16Z ERROR ai: openai.RateLimitError: Error code: 429 - {'error': {'message': 'You exceeded your current quota', 'type': 'insufficient_quota', 'code': 'insufficient_quota'}}",
      '2026-11-26T11:41:17Z ERROR ai: BadRequestError: 400 {"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}',
      '2026-11-26T11:41:18Z WARN ai: upstream deadline exceeded after 30s',
      '2026-11-26T11:41:19Z INFO http: POST /api/v1/analyze status=200 duration=812ms',
    ].join('\n');
    const { linesRead, counts } = scanAiErrors([log], ['anthropic', 'openai']);
    expect(linesRead).toBe(8);
    expect(counts.map((c) => [c.kind, c.count, c.byProvider])).toEqual([
      ['billing', 2, { openai: 1, anthropic: 1 }],
      ['rate_limit', 2, { anthropic: 1, openai: 1 }],
      ['overloaded', 1, { anthropic: 1 }],
      ['timeout', 2, { anthropic: 1 }],
    ]);
  });

  it('matches kinds in the message only: a timestamp that looks like one is no error line, and is read from the lines that are', () => {
    const log = [
      '2026-11-26T11:41:09.529+00:00 INFO http: GET /api/v1/findings status=200 duration=23ms',
      '2026-11-26T11:41:10.429Z INFO ai: provider anthropic ready',
      '2026-11-26T11:41:11.000000000Z WARN ai: provider=openai request failed: APITimeoutError: Request timed out.',
    ].join('\n');
    const { linesRead, counts } = scanAiErrors([log], ['anthropic', 'openai']);
    expect(linesRead).toBe(3);
    expect(counts).toEqual([{ kind: 'timeout', count: 1, byProvider: { openai: 1 }, sample: 'WARN ai: provider=openai request failed: APITimeoutError: Request timed out.', firstAt: '2026-11-26T11:41:11.000Z' }]);
  });

  it("counts several pods' logs as the one log they make, in order: the latest line is the sample, the first time stays", () => {
    const pods = [
      '2026-11-26T11:41:12Z ERROR ai: RateLimitError: 429 rate_limit_error from anthropic\n2026-11-26T11:41:20Z WARN ai: provider=openai request failed: APITimeoutError: Request timed out.\n',
      '2026-11-26T11:41:05Z ERROR ai: openai.RateLimitError: Error code: 429 - {\'error\': {\'code\': \'rate_limit_exceeded\'}}\n2026-11-26T11:41:30Z INFO http: GET /healthz 200\n',
      '',
      '2026-11-26T11:41:40Z ERROR ai: RateLimitError: 429 rate_limit_error from anthropic, again\n',
    ];
    const apart = scanAiErrors(pods, ['anthropic', 'openai']);
    expect(apart).toEqual(scanAiErrors([pods.join('')], ['anthropic', 'openai']));
    expect(apart.counts.map((c) => [c.kind, c.count, c.byProvider, c.sample, c.firstAt])).toEqual([
      ['rate_limit', 3, { anthropic: 2, openai: 1 }, 'ERROR ai: RateLimitError: 429 rate_limit_error from anthropic, again', '2026-11-26T11:41:05.000Z'],
      ['timeout', 1, { openai: 1 }, 'WARN ai: provider=openai request failed: APITimeoutError: Request timed out.', '2026-11-26T11:41:20.000Z'],
    ]);
    expect(apart.linesRead).toBe(5);
  });

  it('says how many of each kind, per provider, against the lines read', () => {
    const [finding] = evaluateProviderLogs(
      { tailLines: 500, pods: 1, linesRead: 500, counts: [{ kind: 'rate_limit', count: 12, byProvider: { anthropic: 12 }, sample: 'RateLimitError: 429', firstAt: null }] },
      env,
    );
    expect(finding?.summary).toBe('12 AI provider error line(s) in the last 500 log lines (12 rate limit) (anthropic 12): RateLimitError: 429');
  });
});

describe('SEV2: a major feature broken', () => {
  it('needs the provider down on its page and ai_provider health 0 on every instance', () => {
    const down = page('claude-major-outage', 'anthropic');
    const [broken] = aiFeatureBroken([...down, ...aiHealth(3)], env.now);
    expect(broken?.code).toBe('AEG-4010');
    expect(broken?.severity).toBe('SEV2');
    expect(broken?.summary).toMatch(/^AI features are broken: anthropic is down \(Claude API \(api\.anthropic\.com\) major outage; incident "Elevated errors on Claude API"/);
    expect(broken?.summary).toContain('and ai_provider health is 0 on all 3 instance(s)');
    expect(aiFeatureBroken([...down, ...aiHealth(1)], env.now)).toEqual([]);
    expect(aiFeatureBroken([...page('openai-incident-no-components', 'openai'), ...aiHealth(3)], env.now)).toEqual([]);
  });

  it('classifies SEV2 and names the Claude API and its incident as the reason', () => {
    const findings = [...page('claude-major-outage', 'anthropic'), ...page('openai-operational', 'openai'), ...aiHealth(3)];
    const report = classify('diagnose ai-provider', [], aiFeatureBroken(findings, env.now).concat(findings));
    expect(report.severity).toBe('SEV2');
    expect(report.severityReason).toMatch(/^AEG-4010 AI features are broken: anthropic is down \(Claude API/);
  });
});

describe('the AI provider remediation, in the runbook order', () => {
  const next = (findings: Finding[]) => decideAiProviderRemediation(findings, env.now).flatMap((f) => f.next);
  it('enables the fallback to an operational provider when one is down', () => {
    expect(next([...page('claude-major-outage', 'anthropic'), ...page('openai-operational', 'openai'), ...aiHealth(3), ...settings('')])).toEqual([
      'aegis-ir fix ai-provider --enable-fallback openai --dry-run',
    ]);
  });
  it('never names a fallback that is not operational; with every provider down it degrades to static', () => {
    expect(next([...page('claude-major-outage', 'anthropic'), ...page('openai-incident-no-components', 'openai')])).toEqual([
      'aegis-ir fix ai-provider --degrade-to-static --dry-run',
    ]);
    expect(next([...page('claude-major-outage', 'anthropic')])).toEqual(['aegis-ir fix ai-provider --degrade-to-static --dry-run']);
  });
  it('raises the timeout when the provider is slow but working, and caches on rate limits', () => {
    expect(next([...page('openai-incident-no-components', 'openai'), ...settings('')])).toEqual(['aegis-ir fix ai-provider --timeout 1m --dry-run']);
    const limited = evaluateProviderLogs(
      { tailLines: 500, pods: 1, linesRead: 500, counts: [{ kind: 'rate_limit', count: 40, byProvider: {}, sample: 'rate_limit_error', firstAt: null }] },
      env,
    );
    expect(next([...page('openai-operational', 'openai'), ...limited, ...settings('')])).toEqual(['aegis-ir fix ai-provider --enable-cache --dry-run']);
  });
  it('decides nothing when nothing is wrong', () => {
    expect(next([...page('openai-operational', 'openai'), ...settings('')])).toEqual([]);
  });
});
