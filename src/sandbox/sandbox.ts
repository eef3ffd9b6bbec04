import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario, startKubeSimulator, type KubeSimulator, type Scenario } from './kube-simulator/index.js';
import { startDrillDatabase } from './postgres.js';
import { startScenarioPrometheus } from './prometheus-simulator/sandbox.js';
import { AI_COMPONENT } from '../checks/ai-provider/status-page.js';
import { startAiApp } from './statuspage-simulator/ai-app.js';
import { startStatusPageSimulator } from './statuspage-simulator/server.js';

export { ScenarioError, listScenarios, loadScenario } from './kube-simulator/index.js';

/**
 * A running sandbox: the Kubernetes simulator (and, as scenarios ask for them, the other simulated
 * or embedded services) with one runbook incident injected. `env` is what points aegis-ir, kubectl
 * and psql at it.
 */
export interface Sandbox {
  scenario: Scenario;
  /** Directory holding the sandbox's files (kubeconfig…); removed on close. */
  dir: string;
  kubeconfig: string;
  namespace: string;
  env: Record<string, string>;
  kube: KubeSimulator;
  close(): Promise<void>;
}

/** Starts the sandbox for a built-in scenario name or a scenario file path. */
export async function startSandbox(nameOrPath: string): Promise<Sandbox> {
  const scenario = loadScenario(nameOrPath);
  const dir = mkdtempSync(join(tmpdir(), `aegis-ir-drill-${scenario.name}-`));
  const closers: Array<() => Promise<void>> = [async () => rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => undefined);
  };
  try {
    // Like a real cluster: TLS verified against the kubeconfig's CA, and a bearer token of its own.
    const kube = await startKubeSimulator({ scenario, tls: true });
    closers.push(() => kube.close());
    const namespace = scenario.document.kubernetes.namespace;
    const kubeconfig = join(dir, 'kubeconfig');
    await kube.writeKubeconfig(kubeconfig, { namespace });
    const database = scenario.document.database ? await startDrillDatabase(scenario.document.database, dir) : null;
    if (database) closers.push(() => database.close());
    const { statusPages, aiApp } = scenario.document;
    const pages = statusPages ? await startStatusPageSimulator(statusPages, new Date()) : null;
    if (pages) closers.push(() => pages.close());
    const app = pages && aiApp ? startAiApp({ app: aiApp, pages, kube, namespace, deployment: scenario.document.prometheus?.deployment ?? 'aegis-api' }) : null;
    if (app) closers.push(async () => app.stop());
    const prometheus = await startScenarioPrometheus(scenario, kube, app ? (component) => (component === AI_COMPONENT ? app.health() : undefined) : undefined);
    if (prometheus) closers.push(() => prometheus.close());
    const env = {
      KUBECONFIG: kubeconfig,
      ...database?.env,
      ...(prometheus ? { PROMETHEUS_URL: prometheus.url } : {}),
      ...(pages ? { AEGIS_IR_STATUS_PAGES: pages.pages } : {}),
    };
    return { scenario, dir, kubeconfig, namespace, env, kube, close };
  } catch (error) {
    await close();
    throw error;
  }
}
