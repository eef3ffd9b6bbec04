import { writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { Authorizer } from './authorization.js';
import { startAutoscaler } from './autoscaler.js';
import { startDeploymentController } from './controller.js';
import { chooseExecProtocol } from './exec.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { Router } from './router.js';
import { PodRuntimes } from './runtime.js';
import { compileScenario } from './scenario/compile.js';
import { type Scenario, loadScenario } from './scenario/load.js';
import { ObjectStore } from './store.js';
import { type Clock, systemClock } from './time.js';

/** How to start a simulator. */
export interface KubeSimulatorOptions {
  /** A built-in scenario name, a path to a scenario YAML file, or an already parsed scenario. */
  readonly scenario: string | Scenario;
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Source of "now" for scenario times, ages and new objects; defaults to the wall clock. */
  readonly clock?: Clock;
}

/** A running simulator. */
export interface KubeSimulator {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The scenario it serves. */
  readonly scenario: Scenario;
  /** The objects it serves; tests read it to check what a command changed, and may subscribe to changes. */
  readonly store: ObjectStore;
  /** A kubeconfig (context `aegis-sandbox`) pointing at this simulator. */
  kubeconfigYaml(options?: { namespace?: string }): string;
  /** Writes that kubeconfig to a file (mode 0600, since it may hold the token). */
  writeKubeconfig(path: string, options?: { namespace?: string }): Promise<void>;
  /** Stops serving and drops open connections (watches, exec sessions). */
  close(): Promise<void>;
}

/**
 * Starts the Kubernetes API simulator: the scenario compiled into real API objects, served over plain HTTP on
 * 127.0.0.1 with the REST paths, discovery, tables, logs, exec and proxy that kubectl and client libraries use.
 */
export async function startKubeSimulator(options: KubeSimulatorOptions): Promise<KubeSimulator> {
  const scenario = typeof options.scenario === 'string' ? loadScenario(options.scenario) : options.scenario;
  const clock = options.clock ?? systemClock;
  const store = new ObjectStore(clock);
  const runtimes = new PodRuntimes();
  const compiled = compileScenario(scenario.document, store, runtimes, clock());
  const stopController = startDeploymentController({ store, runtimes, clock,
    crashingImages: compiled.crashingImages });
  const stopAutoscaler = startAutoscaler(store);
  const websockets = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => chooseExecProtocol([...offered].join(',')) ?? false,
  });
  const router = new Router({ store, runtimes, clock, authorizer: new Authorizer(compiled.rbacDeny), websockets,
    ...(compiled.token === undefined ? {} : { token: compiled.token }) });
  const server: Server = createServer((request, response) => void router.handle(request, response));
  server.on('upgrade', (request, socket, head) => router.handleUpgrade(request, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = (o?: { namespace?: string }): string =>
    kubeconfigYaml(url, o?.namespace ?? compiled.namespace, compiled.token);
  return {
    url,
    scenario,
    store,
    kubeconfigYaml: config,
    writeKubeconfig: (path, o) => writeFile(path, config(o), { mode: 0o600 }),
    close: async () => {
      stopController();
      stopAutoscaler();
      for (const client of websockets.clients) client.terminate();
      websockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
