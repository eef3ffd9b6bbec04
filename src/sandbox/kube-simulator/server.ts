import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { shippedDir } from '../package-root.js';
import { WebSocketServer } from 'ws';
import { Authorizer } from './authorization.js';
import { startAutoscaler } from './autoscaler.js';
import { startDeploymentController } from './controller.js';
import { chooseExecProtocol } from './exec.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { Router } from './router.js';
import { type PodRuntime, PodRuntimes } from './runtime.js';
import { compileScenario } from './scenario/compile.js';
import { type Scenario, loadScenario } from './scenario/load.js';
import { ObjectStore } from './store.js';
import { type Clock, systemClock } from './time.js';
import { markReady } from './workloads.js';

/** How to start a simulator. */
export interface KubeSimulatorOptions {
  /** A built-in scenario name, a path to a scenario YAML file, or an already parsed scenario. */
  readonly scenario: string | Scenario;
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Source of "now" for scenario times, ages and new objects; defaults to the wall clock. */
  readonly clock?: Clock;
  /**
   * Serve HTTPS, as a real API server does, with the bundled certificate for 127.0.0.1 and a bearer token (the
   * scenario's, else a random one): kubectl only sends tokens over TLS, and clients verify the server against the
   * CA that the kubeconfig carries.
   */
  readonly tls?: boolean;
}

/** A running simulator. */
export interface KubeSimulator {
  /** Base URL, `http://127.0.0.1:<port>` (`https://` with `tls`). */
  readonly url: string;
  /** The scenario it serves. */
  readonly scenario: Scenario;
  /** The objects it serves; tests read it to check what a command changed, and may subscribe to changes. */
  readonly store: ObjectStore;
  /** Every eviction asked for (dry runs included) and the status it was answered, in order. */
  evictions(): ReadonlyArray<{ pod: string; status: number; dryRun: boolean }>;
  /** What a pod's containers do beyond its object (memory growth, heap), for the other simulators. */
  podRuntime(namespace: string, pod: string): PodRuntime;
  /** Replaces what a pod's containers do (its logs), as another simulator decides it (the AI app once it works again). */
  setPodRuntime(namespace: string, pod: string, runtime: PodRuntime): void;
  /** A kubeconfig (context `aegis-sandbox`) pointing at this simulator. */
  kubeconfigYaml(options?: { namespace?: string }): string;
  /** Writes that kubeconfig to a file (mode 0600, since it may hold the token). */
  writeKubeconfig(path: string, options?: { namespace?: string }): Promise<void>;
  /** TCP connections accepted so far: a client that pools its connections opens few. */
  readonly connections: number;
  /** Stops serving and drops open connections (watches, exec sessions). */
  close(): Promise<void>;
}

/**
 * Starts the Kubernetes API simulator: the scenario compiled into real API objects, served over HTTP (or HTTPS with
 * `tls`) on 127.0.0.1 with the REST paths, discovery, tables, logs, exec and proxy that kubectl and client libraries
 * use.
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
  const readiness = compiled.readyLater.map(({ pod, afterMs }) =>
    setTimeout(() => markReady(store, compiled.namespace, pod, clock()), afterMs).unref());
  const websockets = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => chooseExecProtocol([...offered].join(',')) ?? false,
  });
  const token = compiled.token ?? (options.tls ? randomBytes(24).toString('base64url') : undefined);
  const evictions: Array<{ pod: string; status: number; dryRun: boolean }> = [];
  const router = new Router({ store, runtimes, clock, authorizer: new Authorizer(compiled.rbacDeny), websockets, evictions,
    metricsUnavailable: compiled.metricsUnavailable, ...(token === undefined ? {} : { token }) });
  const handle = (request: Parameters<Router['handle']>[0], response: Parameters<Router['handle']>[1]) =>
    void router.handle(request, response);
  const tls = options.tls ? sandboxTls() : undefined;
  const server: Server = tls ? createTlsServer({ cert: tls.cert, key: tls.key }, handle) : createServer(handle);
  server.on('upgrade', (request, socket, head) => router.handleUpgrade(request, socket, head));
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = (o?: { namespace?: string }): string =>
    kubeconfigYaml(url, o?.namespace ?? compiled.namespace, token, tls?.ca);
  return {
    url,
    scenario,
    store,
    podRuntime: (namespace, pod) => runtimes.get(namespace, pod),
    evictions: () => evictions,
    setPodRuntime: (namespace, pod, runtime) => runtimes.set(namespace, pod, runtime),
    kubeconfigYaml: config,
    writeKubeconfig: (path, o) => writeFile(path, config(o), { mode: 0o600 }),
    get connections() {
      return connections;
    },
    close: async () => {
      for (const timer of readiness) clearTimeout(timer);
      stopController();
      stopAutoscaler();
      for (const client of websockets.clients) client.terminate();
      websockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The sandbox's TLS material: a certificate for 127.0.0.1 and localhost signed by a CA made for it alone (its
 * key was destroyed once the certificate was signed, so nothing else can be trusted through it).
 */
function sandboxTls(): { ca: string; cert: string; key: string } {
  const dir = shippedDir('sandbox', 'kube-simulator', 'tls');
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return { ca: read('ca.crt'), cert: read('server.crt'), key: read('server.key') };
}
