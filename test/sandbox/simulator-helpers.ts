import { execFile, execFileSync } from 'node:child_process';
import { missingTool } from '../helpers/binary.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type KubeSimulator, type Scenario, loadScenario, startKubeSimulator,
} from '../../src/sandbox/kube-simulator/index.js';
import type { ScenarioDocument } from '../../src/sandbox/kube-simulator/index.js';

/** A fixed "now", so ages and restart times in kubectl output are exact. */
export const NOW = new Date('2025-06-02T09:30:00Z');
export const fixedClock = (): Date => new Date(NOW.getTime());

/** Why kubectl tests cannot run here, or undefined when they can. */
export const kubectlMissing: string | undefined = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return undefined;
  } catch (error) {
    return missingTool(`kubectl is not runnable (${(error as Error).message}); skipping the tests that drive the real kubectl`).missing;
  }
})();

/** A built-in scenario with changes to its kubernetes section (RBAC, token…). */
export function scenarioWith(name: string, change: Partial<ScenarioDocument['kubernetes']>): Scenario {
  const scenario = loadScenario(name);
  return { ...scenario, document: { ...scenario.document,
    kubernetes: { ...scenario.document.kubernetes, ...change } } };
}

/** A running simulator plus a kubeconfig file and a scratch HOME (kubectl's discovery cache) for it. */
export interface Sandbox {
  readonly sim: KubeSimulator;
  readonly kubeconfig: string;
  readonly dir: string;
  kubectl(...args: string[]): Promise<KubectlResult>;
  stop(): Promise<void>;
}

/** What a kubectl run produced. */
export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs kubectl with an explicit kubeconfig and an isolated HOME, never throwing on a non-zero exit. */
export function runKubectl(kubeconfig: string, home: string, args: string[]): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile('kubectl', ['--kubeconfig', kubeconfig, ...args],
      { env: { PATH: process.env['PATH'] ?? '/usr/bin', HOME: home }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      });
  });
}

/** Starts a simulator for a scenario and writes its kubeconfig to a temporary directory. */
export async function startSandbox(scenario: string | Scenario, options: { tls?: boolean } = {}): Promise<Sandbox> {
  const sim = await startKubeSimulator({ scenario, clock: fixedClock, ...options });
  const dir = mkdtempSync(join(tmpdir(), 'aegis-kube-sim-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig);
  return {
    sim, kubeconfig, dir,
    kubectl: (...args) => runKubectl(kubeconfig, dir, args),
    stop: async () => {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
