import { providerState } from '../../checks/ai-provider/status-page.js';
import { defaultConfig } from '../../core/config.js';
import { summarise } from '../../http/statuspage.js';
import { parseConfigKey, readConfigValue } from '../../kube/config-document.js';
import type { KubeSimulator } from '../kube-simulator/index.js';
import { CONFIG_MAP, DEPLOYMENT, POD } from '../kube-simulator/resources.js';
import type { KubeObject } from '../kube-simulator/store.js';
import type { AiAppSection } from './schema.js';
import type { StatusPageSimulator } from './server.js';

/** The simulated app's AI settings, as its pods read them when they started. */
interface RunningSettings {
  fallback: string | null;
  cache: boolean;
  mode: string | null;
}

/** How the simulated app's AI features fare: its `ai_provider` health, and stopping. */
export interface AiApp {
  /** 1 while the app has a working provider (or runs static analysis), 0 otherwise. */
  health(): number;
  stop(): void;
}

/**
 * The simulated app's use of its AI providers: it calls `primary`, or the fallback provider of its
 * ConfigMap when one is set, as its pods read the ConfigMap when they last restarted (a change of the
 * ConfigMap alone does nothing until a rollout, as in a real app). Its `ai_provider` health is 0 while
 * the provider it would call is down on its status page; pods started once it works again log
 * `recoveredLines` instead of the scenario's error lines, so a drill can be played through to green.
 */
export function startAiApp(options: {
  app: AiAppSection;
  pages: StatusPageSimulator;
  kube: KubeSimulator;
  namespace: string;
  deployment: string;
}): AiApp {
  const { app, pages, kube, namespace } = options;
  const settings = defaultConfig().aiProvider;
  const keys = { fallback: parseConfigKey(settings.keys.fallback), cache: parseConfigKey(settings.keys.cache), mode: parseConfigKey(settings.keys.mode) };
  const read = (): RunningSettings => {
    const data = (kube.store.get(CONFIG_MAP, namespace, settings.configMap)?.['data'] ?? {}) as Record<string, string>;
    return {
      fallback: readConfigValue(data, keys.fallback) || null,
      cache: readConfigValue(data, keys.cache) === 'true',
      mode: readConfigValue(data, keys.mode),
    };
  };
  let running = read();
  const down = (provider: string) => {
    const summary = pages.summary(provider);
    return summary === null || providerState(summarise({ name: provider, statusPage: '' }, '', summary)) === 'down';
  };
  const serving = () => {
    if (running.mode === 'static') return true;
    const provider = !down(app.primary) ? app.primary : running.fallback && !down(running.fallback) ? running.fallback : null;
    return provider !== null && (running.cache || !app.rateLimited.includes(provider));
  };
  const working = () => running.mode === 'static' || !down(app.primary) || (running.fallback !== null && !down(running.fallback));
  const ownPod = (pod: KubeObject) => pod.metadata.namespace === namespace && (pod.metadata.name ?? '').startsWith(`${options.deployment}-`);
  const stop = kube.store.subscribe((event) => {
    if (event.resource === DEPLOYMENT && event.type === 'MODIFIED' && event.object.metadata.name === options.deployment) {
      const template = (o: KubeObject | undefined) => JSON.stringify((o?.['spec'] as { template?: unknown } | undefined)?.template);
      if (template(event.previous) !== template(event.object)) running = read();
    } else if (event.resource === POD && event.type === 'ADDED' && ownPod(event.object) && serving()) {
      const name = event.object.metadata.name ?? '';
      const container = ((event.object['spec'] as { containers?: Array<{ name: string }> }).containers ?? [])[0]?.name;
      if (!container) return;
      const runtime = kube.podRuntime(namespace, name);
      const logs = new Map(runtime.logs);
      logs.set(container, { current: [{ kind: 'repeat', from: Date.now(), everyMs: 20_000, count: 1_000, lines: app.recoveredLines }] });
      kube.setPodRuntime(namespace, name, { ...runtime, logs });
    }
  });
  return { health: () => (working() ? 1 : 0), stop };
}
