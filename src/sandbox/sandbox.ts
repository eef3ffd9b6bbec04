import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { CancelledError } from '../core/errors.js';
import { processAlive } from '../core/operator.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario, startKubeSimulator, type KubeSimulator, type Scenario } from './kube-simulator/index.js';
import { systemClock, type Clock } from './kube-simulator/time.js';
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

/** The directories of drills, in the system's temp directory. */
const DRILL_PREFIX = 'aegis-ir-drill-';
/** In a drill's directory: the pid of the process running it, so that a later drill can tell it died. */
const OWNER_FILE = 'owner.json';

/**
 * Starts the sandbox for a built-in scenario name or a scenario file path. When `signal` aborts while it
 * starts (Ctrl-C, SIGTERM, SIGHUP), what was started is stopped and removed, and it rejects with
 * {@link CancelledError}. `clock` is the sandbox's "now" for every simulator (scenario times, ages, metrics): the
 * run's own clock, so that a drill's times read the same on every run when that clock is pinned.
 */
export async function startSandbox(
  nameOrPath: string,
  signal: AbortSignal = new AbortController().signal,
  clock: Clock = systemClock,
): Promise<Sandbox> {
  const scenario = loadScenario(nameOrPath);
  sweepDeadDrills();
  const dir = mkdtempSync(join(tmpdir(), `${DRILL_PREFIX}${scenario.name}-`));
  const closers: Array<() => Promise<void>> = [async () => rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => undefined);
  };
  // Each part is registered for closing as soon as it runs; a cancellation is noticed between parts.
  const checkpoint = () => {
    if (signal.aborted) throw new CancelledError();
  };
  try {
    writeFileSync(join(dir, OWNER_FILE), JSON.stringify({ pid: process.pid }), { mode: 0o600 });
    checkpoint();
    // Like a real cluster: TLS verified against the kubeconfig's CA, and a bearer token of its own.
    const kube = await startKubeSimulator({ scenario, tls: true, clock });
    closers.push(() => kube.close());
    checkpoint();
    const namespace = scenario.document.kubernetes.namespace;
    const kubeconfig = join(dir, 'kubeconfig');
    await kube.writeKubeconfig(kubeconfig, { namespace });
    checkpoint();
    const database = scenario.document.database ? await startDrillDatabase(scenario.document.database, dir) : null;
    if (database) closers.push(() => database.close());
    checkpoint();
    const { statusPages, aiApp } = scenario.document;
    const pages = statusPages ? await startStatusPageSimulator(statusPages, clock()) : null;
    if (pages) closers.push(() => pages.close());
    checkpoint();
    const app = pages && aiApp ? startAiApp({ app: aiApp, pages, kube, namespace, deployment: scenario.document.prometheus?.deployment ?? 'aegis-api' }) : null;
    if (app) closers.push(async () => app.stop());
    const prometheus = await startScenarioPrometheus(scenario, kube, clock, app ? (component) => (component === AI_COMPONENT ? app.health() : undefined) : undefined);
    if (prometheus) closers.push(() => prometheus.close());
    checkpoint();
    const env = {
      KUBECONFIG: kubeconfig,
      ...database?.env,
      ...(prometheus ? { PROMETHEUS_URL: prometheus.url } : {}),
      ...(pages ? { AEGIS_IR_STATUS_PAGES: pages.pages } : {}),
      // Remediations tried on the sandbox are audited in its own log, not in the operator's.
      AEGIS_IR_AUDIT_LOG: join(dir, 'audit.jsonl'),
    };
    return { scenario, dir, kubeconfig, namespace, env, kube, close };
  } catch (error) {
    await close();
    // Ctrl-C on a terminal reaches the servers being started too; their failure is then the cancellation.
    if (signal.aborted) throw new CancelledError();
    throw error;
  }
}

/**
 * Removes what drills killed outright (SIGKILL, a second Ctrl-C) left behind: their directory, with its
 * kubeconfig, token and password file, and their PostgreSQL server, which outlives them. A drill is
 * dead when the pid recorded in its directory no longer runs; a directory without one is left alone.
 */
export function sweepDeadDrills(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(DRILL_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number((JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as { pid?: unknown }).pid);
    } catch {
      continue;
    }
    if (!Number.isInteger(owner) || processAlive(owner)) continue;
    for (const entry of readdirSync(dir)) stopPostmaster(join(dir, entry, 'data'));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stops the PostgreSQL server of a data directory at once (SIGQUIT, immediate shutdown), if one runs there. */
function stopPostmaster(dataDir: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) process.kill(pid, 'SIGQUIT');
}
