import { Option } from 'commander';
import type { AiSetting } from '../checks/ai-provider/ai-settings.js';
import type { Check } from '../checks/check.js';
import type { Context } from '../core/context.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { GuardError, UsageError } from '../core/errors.js';
import type { ProviderPage } from '../http/statuspage.js';
import { ConfigMapRolloutSession, type SettingChange, type SettingReader, type SettingsPlan } from './configmap-rollout.js';
import { defineRemediation } from './remediation.js';
import { rolloutTimeoutOf, rolloutTimeoutOption } from './workload-patch.js';

type Action = { kind: 'fallback'; provider: string | null } | { kind: 'timeout'; text: string; ms: number } | { kind: 'cache' } | { kind: 'static' };

interface Args {
  action: Action;
  force: boolean;
  rolloutTimeoutMs: number;
}

/**
 * `fix ai-provider`: the runbook's AI Provider Timeouts remediations, each a change of the app's AI
 * settings in its ConfigMap (`aiProvider.configMap`, keys `aiProvider.keys.*`) and a rolling restart:
 * `--enable-fallback [PROVIDER]` sets the fallback provider (by default the first configured provider
 * whose status page is operational; one whose page reports it down, or cannot be read, is refused
 * unless `--force`), `--timeout DURATION` the AI request timeout, `--enable-cache` cached responses,
 * `--degrade-to-static` the static-analysis mode. Verified by the ai-provider checks.
 */
export const aiProviderRemediation = defineRemediation<Args>({
  id: 'ai-provider',
  summary: "Change the app's AI settings (fallback provider, timeout, cache, static mode), then rolling-restart it",
  description:
    'Exactly one of --enable-fallback [PROVIDER], --timeout DURATION, --enable-cache, --degrade-to-static. The setting is\n' +
    "edited in the app's ConfigMap in place (nothing else in the file changes), shown as a server-side dry run with the\n" +
    'restart, applied under Leases on the ConfigMap and the Deployment, and verified by the ai-provider checks once the\n' +
    'rollout is done. A fallback whose status page reports it down (or cannot be read) is refused unless --force.',
  risk: 'medium',
  anchor: 'issue-ai-provider-timeouts',
  options: () => [
    new Option('--enable-fallback [provider]', 'fall back to this provider (default: the first configured one that is operational)'),
    new Option(
      '--ai-timeout <duration>',
      'the app\'s AI request timeout, e.g. 60s (for a provider slow but working); --timeout after "ai-provider" is this too. ' +
        'The run\'s own deadline goes before the command: aegis-ir --timeout 30s fix ai-provider --timeout 60s (or AEGIS_IR_TIMEOUT)',
    ),
    new Option('--enable-cache', 'serve cached responses for repeat queries'),
    new Option('--degrade-to-static', 'degrade gracefully to static analysis (no AI provider calls)'),
    new Option('--force', 'enable a fallback whose status page reports it down or cannot be read'),
    rolloutTimeoutOption(),
  ],
  ownSpellings: { '--timeout': '--ai-timeout' },
  examples: [
    'aegis-ir fix ai-provider --enable-fallback openai --dry-run',
    'aegis-ir fix ai-provider --enable-fallback --yes',
    'aegis-ir fix ai-provider --timeout 60s --dry-run',
    'aegis-ir --timeout 2m fix ai-provider --timeout 60s --yes   # a 2m deadline for the run, 60s for the app\'s AI calls',
    'aegis-ir fix ai-provider --enable-cache --yes',
  ],
  parseArgs(options, ctx) {
    const chosen = [
      options.enableFallback !== undefined && '--enable-fallback',
      options.aiTimeout !== undefined && '--timeout',
      options.enableCache !== undefined && '--enable-cache',
      options.degradeToStatic !== undefined && '--degrade-to-static',
    ].filter((flag): flag is string => Boolean(flag));
    if (chosen.length !== 1) {
      throw new UsageError(
        chosen.length ? `${chosen.join(' and ')} cannot be combined; expected exactly one change` : 'say what to change: --enable-fallback [PROVIDER], --timeout DURATION, --enable-cache or --degrade-to-static',
        'aegis-ir diagnose ai-provider   # its verdict names the remediation that fits',
      );
    }
    const force = Boolean(options.force);
    const rolloutTimeoutMs = rolloutTimeoutOf(options);
    if (options.enableFallback !== undefined) {
      const provider = typeof options.enableFallback === 'string' ? options.enableFallback : null;
      const names = ctx.config.aiProvider.providers.map((p) => p.name);
      if (provider !== null && !names.includes(provider)) {
        throw new UsageError(`--enable-fallback ${provider} is not a configured provider; expected one of: ${names.join(', ')}`, 'add it to aiProvider.providers in the config');
      }
      return { action: { kind: 'fallback', provider }, force, rolloutTimeoutMs };
    }
    if (options.aiTimeout !== undefined) {
      const text = String(options.aiTimeout);
      const ms = parseDuration(text);
      if (ms === undefined || ms < 1000) {
        throw new UsageError(
          `--timeout ${text} (after ai-provider: the app's AI request timeout) is not valid; expected a duration of at least 1s such as 60s or 2m`,
          "the run's own deadline goes before the command: aegis-ir --timeout 30s fix ai-provider --timeout 60s --dry-run",
        );
      }
      return { action: { kind: 'timeout', text, ms }, force, rolloutTimeoutMs };
    }
    return { action: { kind: options.enableCache !== undefined ? 'cache' : 'static' }, force, rolloutTimeoutMs };
  },
  checks: aiProviderChecks,
  async open(ctx, args) {
    // The checks (and the YAML library behind them) load when the fix runs, not with `fix --help`.
    const [kube, { AI_SETTINGS, aiSettingKeys }, verifyWith] = await Promise.all([ctx.kube(), import('../checks/ai-provider/ai-settings.js'), aiProviderChecks(ctx)]);
    const keys = aiSettingKeys(ctx.config);
    return new ConfigMapRolloutSession(
      ctx,
      kube,
      {
        configMap: ctx.config.aiProvider.configMap,
        configMapKey: 'aiProvider.configMap',
        plan: (current) => planAiSettings(ctx, args, current),
        verifyWith,
        verifyDetails: (current) => Object.fromEntries(AI_SETTINGS.map((s: AiSetting) => [s, current(keys[s])])),
      },
      args.rolloutTimeoutMs,
    );
  },
});

/** The ai-provider checks, the status pages read whatever the app's health says. */
async function aiProviderChecks(ctx: Context): Promise<readonly Check[]> {
  const [{ aiSettingsCheck }, { providerLogsCheck }, { statusPageChecks }, { componentHealthCheck }] = await Promise.all([
    import('../checks/ai-provider/ai-settings.js'),
    import('../checks/ai-provider/provider-logs.js'),
    import('../checks/ai-provider/status-page.js'),
    import('../checks/prometheus/component-health.js'),
  ]);
  return [providerLogsCheck, componentHealthCheck, aiSettingsCheck, ...statusPageChecks(ctx.config, { whenAiUnhealthy: false })];
}

async function planAiSettings(ctx: Context, args: Args, current: SettingReader): Promise<SettingsPlan> {
  const { aiSettingKeys } = await import('../checks/ai-provider/ai-settings.js');
  const keys = aiSettingKeys(ctx.config);
  const map = ctx.config.aiProvider.configMap;
  const change = (setting: AiSetting, value: string | boolean, label: string): SettingChange => ({ key: keys[setting], value, label });
  const { action } = args;
  switch (action.kind) {
    case 'fallback': {
      const provider = await fallbackProvider(ctx, action.provider, args.force);
      return {
        summary: `enable the AI fallback provider ${provider} in configmap/${map} (before: ${current(keys.fallback) || 'unset'})`,
        changes: [change('fallback', provider, 'AI fallback provider')],
        size: 1,
        notes: ['remove the fallback once the provider has recovered (runbook: Post-Incident, remove any temporary mitigations)'],
      };
    }
    case 'timeout': {
      const now = current(keys.timeout);
      const nowMs = now === null ? undefined : parseDuration(now);
      return {
        summary: `set the AI request timeout in configmap/${map} from ${now || 'unset'} to ${action.text}`,
        changes: [change('timeout', action.text, 'AI request timeout')],
        size: 1,
        notes: nowMs !== undefined && action.ms < nowMs ? [`this lowers the timeout (from ${formatDuration(nowMs)}): slow answers will fail sooner`] : ['a longer timeout holds requests (and their connections) longer while the provider is slow'],
      };
    }
    case 'cache':
      return { summary: `enable cached AI responses in configmap/${map}`, changes: [change('cache', true, 'AI response cache')], size: 1, notes: ['repeat queries are answered from the cache; fresh ones still reach the provider'] };
    default:
      return {
        summary: `degrade the app to static analysis in configmap/${map} (AI mode before: ${current(keys.mode) || 'unset'})`,
        changes: [change('mode', 'static', 'AI mode')],
        size: 1,
        notes: ['AI-powered features stay off until the mode is set back to ai'],
      };
  }
}

/**
 * The provider to fall back to: the one named, after its status page confirms it is not down, or the
 * first configured provider whose page is operational. A page that cannot be read is not evidence
 * that the provider works: it is refused too, unless `--force`.
 */
async function fallbackProvider(ctx: Context, named: string | null, force: boolean): Promise<string> {
  const [{ readStatusPage }, { describePage, providerState }] = await Promise.all([import('../http/statuspage.js'), import('../checks/ai-provider/status-page.js')]);
  const providers = ctx.config.aiProvider.providers.filter((p) => named === null || p.name === named);
  const pages = await Promise.all(
    providers.map((source) => readStatusPage(ctx.http, source).then((page): ProviderPage | Error => page, (error: unknown) => error as Error)),
  );
  if (named !== null) {
    const page = pages[0];
    if (page instanceof Error) {
      if (force) return named;
      throw new GuardError(`the status of ${named} is unknown (${page.message}); falling back to it may not help`, `check it, or pass --force to enable it anyway`);
    }
    if (page && providerState(page) === 'down' && !force) {
      throw new GuardError(`${named} is itself down (${describePage(page)}); falling back to it would not help`, 'aegis-ir diagnose ai-provider, or pass --force to enable it anyway');
    }
    return named;
  }
  const operational = providers.find((_, i) => {
    const page = pages[i];
    return page !== undefined && !(page instanceof Error) && providerState(page) === 'operational';
  });
  if (!operational) {
    throw new GuardError(
      'no configured AI provider reports operational, so there is no fallback to enable',
      'name one with --enable-fallback PROVIDER --force, or degrade: aegis-ir fix ai-provider --degrade-to-static --dry-run',
    );
  }
  return operational.name;
}
