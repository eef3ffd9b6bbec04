import { formatDuration, parseDuration } from '../../core/duration.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import { PROMETHEUS_FINDINGS as P } from '../prometheus/findings.js';
import { AI_PROVIDER_FINDINGS as F } from './findings.js';
import { kindsSeen } from './provider-logs.js';
import { AI_COMPONENT, type ProviderState } from './status-page.js';

const STATUS_CODES = new Set([F.providerOperational.code, F.providerDown.code, F.providerDegraded.code, F.providerMaintenance.code]);

/** Each provider whose page was read, with its state. */
function providerStates(findings: Finding[]): Array<{ provider: string; state: ProviderState; finding: Finding }> {
  return findings
    .filter((f) => STATUS_CODES.has(f.code))
    .map((f) => ({ provider: String(f.evidence.provider), state: f.evidence.state as ProviderState, finding: f }));
}

/** The app's own AI health finding when every instance reports it 0, else null. */
function aiHealthZero(findings: Finding[]): Finding | null {
  return (
    findings.find(
      (f) => f.code === P.componentUnhealthy.code && f.evidence.component === AI_COMPONENT && Number(f.evidence.instances) > 0 && f.evidence.unhealthy === f.evidence.instances,
    ) ?? null
  );
}

/**
 * SPEC's SEV2 "a major feature broken": a provider in major outage on its status page while the app's
 * `aegis_health_status{component="ai_provider"}` is 0 on every instance. Neither alone is enough: a
 * provider down that the app does not feel (a fallback already serving), or a health gauge at 0 while
 * the provider is fine (a key revoked, a bug), is SEV3 from its own finding.
 */
export function aiFeatureBroken(findings: Finding[], _now: Date): Finding[] {
  const health = aiHealthZero(findings);
  if (!health) return [];
  return providerStates(findings)
    .filter((p) => p.state === 'down')
    .map(({ provider, finding }) =>
      makeFinding(F.aiFeatureBroken, {
        check: 'ai-provider',
        params: { provider, what: String(finding.evidence.what), instances: `all ${String(health.evidence.instances)} instance(s)` },
        resource: finding.resource,
        evidence: { provider: finding.evidence, health: health.evidence },
        next: finding.next,
        since: finding.since ?? health.since ?? null,
      }),
    );
}

/**
 * The runbook's AI provider remediation, chosen from the evidence in its order: a provider down →
 * enable the fallback (naming a configured provider whose page is operational); every configured
 * provider down, or none to fall back to → degrade to static analysis; slow but working (degraded,
 * timeouts) → raise the timeout; rate limits → enable cached responses. Billing errors are named apart:
 * waiting will not clear them. Nothing is decided when nothing is wrong.
 */
export function decideAiProviderRemediation(findings: Finding[], _now: Date): Finding[] {
  const states = providerStates(findings);
  const settings = findings.find((f) => f.code === F.settings.code)?.evidence ?? {};
  const kinds = kindsSeen(findings);
  const billing = findings.some((f) => f.code === F.billingLines.code);
  const health = findings.some((f) => f.code === P.componentUnhealthy.code && f.evidence.component === AI_COMPONENT);
  const down = states.filter((s) => s.state === 'down').map((s) => s.provider);
  const operational = states.filter((s) => s.state === 'operational' && !down.includes(s.provider)).map((s) => s.provider);
  const fallback = typeof settings.fallback === 'string' && settings.fallback ? settings.fallback : null;
  const decide = (cause: string, action: string, next: string[]) => [
    makeFinding(F.remediation, { check: 'ai-provider', params: { cause, action }, evidence: { down, operational, fallback, logKinds: [...kinds], billing }, next }),
  ];

  if (down.length && down.length === states.length) {
    return decide(`every configured AI provider is down (${down.join(', ')})`, 'degrade gracefully to static analysis', ['aegis-ir fix ai-provider --degrade-to-static --dry-run']);
  }
  if (down.length || billing) {
    const cause = down.length ? `${down.join(', ')} ${down.length > 1 ? 'are' : 'is'} down` : 'the AI provider refuses requests for billing (insufficient quota or credit); waiting will not clear it';
    const candidate = operational[0];
    if (!candidate) {
      return decide(`${cause}, and no other configured provider is operational`, 'degrade gracefully to static analysis', ['aegis-ir fix ai-provider --degrade-to-static --dry-run']);
    }
    if (fallback === candidate && settings.mode !== 'static') {
      return decide(`${cause}; the fallback to ${candidate} is already configured`, 'if AI features still fail after a restart, degrade to static analysis', [
        'aegis-ir fix ai-provider --degrade-to-static --dry-run',
      ]);
    }
    return decide(cause, `enable the fallback provider ${candidate} (its status page is operational)`, [`aegis-ir fix ai-provider --enable-fallback ${candidate} --dry-run`]);
  }
  const slow = states.filter((s) => s.state === 'degraded').map((s) => s.provider);
  if (slow.length || kinds.has('timeout') || kinds.has('overloaded')) {
    const current = typeof settings.timeout === 'string' ? parseDuration(settings.timeout) : undefined;
    const raised = formatDuration(Math.max(60_000, (current ?? 30_000) * 2));
    const cause = slow.length ? `${slow.join(', ')} ${slow.length > 1 ? 'are' : 'is'} degraded but working` : 'AI requests time out or hit an overloaded provider';
    return decide(cause, `raise the AI timeout${current ? ` from ${formatDuration(current)}` : ''} to ${raised}`, [`aegis-ir fix ai-provider --timeout ${raised} --dry-run`]);
  }
  if (kinds.has('rate_limit')) {
    if (settings.cache === 'true') {
      const candidate = operational.find((p) => p !== fallback) ?? operational[0];
      return decide('AI requests are rate limited although cached responses are on', candidate ? `spread the load: enable the fallback provider ${candidate}` : 'reduce the request rate', candidate ? [`aegis-ir fix ai-provider --enable-fallback ${candidate} --dry-run`] : []);
    }
    return decide('AI requests are rate limited', 'enable cached responses for repeat queries', ['aegis-ir fix ai-provider --enable-cache --dry-run']);
  }
  if (health) {
    return decide('the app reports its AI provider unhealthy while the status pages are operational', "check the app's AI credentials and settings: aegis-ir diagnose ai-provider -v", []);
  }
  return [];
}
