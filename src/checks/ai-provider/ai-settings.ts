import type { Config } from '../../core/config.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import { parseConfigKey, readConfigValue, type ConfigKey } from '../../kube/config-document.js';
import { defineCheck, type EvaluationEnv } from '../check.js';
import { AI_PROVIDER_FINDINGS as F } from './findings.js';

/** The AI settings `fix ai-provider` changes, by the name of their `aiProvider.keys` entry. */
export const AI_SETTINGS = ['fallback', 'timeout', 'cache', 'mode'] as const;
export type AiSetting = (typeof AI_SETTINGS)[number];

/** Evidence of the ai-settings check: each setting's value (null when unset) and where it lives. */
export interface AiSettingsEvidence {
  configMap: string;
  settings: Record<AiSetting, string | null>;
  keys: Record<AiSetting, string>;
}

/** Where each AI setting lives, parsed from `aiProvider.keys`. */
export function aiSettingKeys(config: Config): Record<AiSetting, ConfigKey> {
  const keys = config.aiProvider.keys;
  return { fallback: parseConfigKey(keys.fallback), timeout: parseConfigKey(keys.timeout), cache: parseConfigKey(keys.cache), mode: parseConfigKey(keys.mode) };
}

/**
 * The app's current AI settings (fallback provider, timeout, cache, mode), read from its ConfigMap
 * (`aiProvider.configMap`, keys `aiProvider.keys.*`): what the remediation decision starts from, and
 * what `fix ai-provider` would change. A missing ConfigMap is an error: the settings are unknown.
 */
export const aiSettingsCheck = defineCheck<AiSettingsEvidence>({
  id: 'ai-settings',
  title: "The app's AI settings (ConfigMap)",
  target: 'cluster',
  async collect(ctx) {
    const kube = await ctx.kube();
    const name = ctx.config.aiProvider.configMap;
    const map = await kube.readConfigMap(name, ctx.signal);
    if (!map) throw new Error(`configmap/${name} does not exist in namespace ${kube.namespace}; set aiProvider.configMap in the config`);
    const keys = aiSettingKeys(ctx.config);
    const settings = Object.fromEntries(AI_SETTINGS.map((s) => [s, readConfigValue(map.data, keys[s])])) as Record<AiSetting, string | null>;
    return { configMap: name, settings, keys: ctx.config.aiProvider.keys };
  },
  evaluate: evaluateAiSettings,
});

export function evaluateAiSettings(evidence: AiSettingsEvidence, _env: EvaluationEnv): Finding[] {
  const shown = (value: string | null) => (value === null || value === '' ? 'unset' : value);
  return [
    makeFinding(F.settings, {
      check: 'ai-settings',
      params: {
        configMap: evidence.configMap,
        fallback: shown(evidence.settings.fallback),
        timeout: shown(evidence.settings.timeout),
        cache: evidence.settings.cache === 'true' ? 'on' : 'off',
        mode: shown(evidence.settings.mode),
      },
      resource: `configmap/${evidence.configMap}`,
      evidence: { ...evidence.settings, keys: evidence.keys },
    }),
  ];
}
