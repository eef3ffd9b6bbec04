import { defineFinding } from '../../core/findings.js';

const ANCHOR = 'issue-ai-provider-timeouts';

/** Finding codes of `diagnose ai-provider` (AEG-40xx). */
export const AI_PROVIDER_FINDINGS = {
  providerOperational: defineFinding<{ provider: string; description: string }>({
    code: 'AEG-4000',
    title: 'AI provider operational',
    severity: null,
    anchor: ANCHOR,
    summary: (p) => `${p.provider}'s status page: ${p.description}; its API components are operational`,
  }),
  providerDown: defineFinding<{ provider: string; what: string }>({
    code: 'AEG-4001',
    title: 'AI provider in major outage',
    severity: 'SEV3',
    anchor: ANCHOR,
    summary: (p) => `${p.provider} reports a major outage: ${p.what}`,
  }),
  providerDegraded: defineFinding<{ provider: string; what: string }>({
    code: 'AEG-4002',
    title: 'AI provider degraded',
    severity: 'SEV3',
    anchor: ANCHOR,
    summary: (p) => `${p.provider} reports degraded service: ${p.what}`,
  }),
  providerMaintenance: defineFinding<{ provider: string; what: string }>({
    code: 'AEG-4003',
    title: 'AI provider maintenance in progress',
    severity: null,
    anchor: ANCHOR,
    summary: (p) => `${p.provider} is under maintenance: ${p.what}`,
  }),
  aiFeatureBroken: defineFinding<{ provider: string; what: string; instances: string }>({
    code: 'AEG-4010',
    title: 'AI features broken: provider down and ai_provider health 0',
    severity: 'SEV2',
    anchor: 'incident-classification',
    summary: (p) => `AI features are broken: ${p.provider} is down (${p.what}) and ai_provider health is 0 on ${p.instances}`,
  }),
  errorLines: defineFinding<{ count: number; read: number; kinds: string; providers: string; sample: string }>({
    code: 'AEG-4020',
    title: 'AI provider rate limits, overloads or timeouts in the logs',
    severity: 'SEV3',
    anchor: ANCHOR,
    summary: (p) => `${p.count} AI provider error line(s) in the last ${p.read} log lines (${p.kinds})${p.providers}: ${p.sample}`,
  }),
  billingLines: defineFinding<{ count: number; providers: string; sample: string }>({
    code: 'AEG-4021',
    title: 'AI provider billing errors in the logs',
    severity: 'SEV3',
    anchor: ANCHOR,
    summary: (p) => `${p.count} AI provider billing error line(s)${p.providers}; not transient, waiting will not clear it: ${p.sample}`,
  }),
  settings: defineFinding<{ configMap: string; fallback: string; timeout: string; cache: string; mode: string }>({
    code: 'AEG-4030',
    title: "The app's AI settings",
    severity: null,
    anchor: ANCHOR,
    summary: (p) => `AI settings in configmap/${p.configMap}: fallback ${p.fallback}, timeout ${p.timeout}, cache ${p.cache}, mode ${p.mode}`,
  }),
  remediation: defineFinding<{ cause: string; action: string }>({
    code: 'AEG-4040',
    title: 'AI provider remediation',
    severity: null,
    anchor: ANCHOR,
    summary: (p) => `${p.cause}; remediation: ${p.action}`,
  }),
};
