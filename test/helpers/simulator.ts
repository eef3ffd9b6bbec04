import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { startKubeSimulator, type KubeSimulator } from '../../src/sandbox/kube-simulator/index.js';

/** A simulator running a scenario, with a kubeconfig file pointing at it. */
export interface SimulatedCluster {
  sim: KubeSimulator;
  kubeconfig: string;
  close(): Promise<void>;
}

/** Starts the Kubernetes simulator for a built-in scenario (or a scenario file) and writes its kubeconfig to a temp dir. */
export async function simulatedCluster(scenario: string): Promise<SimulatedCluster> {
  const dir = mkdtempSync(join(tmpdir(), `aegis-test-${basename(scenario, '.yaml')}-`));
  const sim = await startKubeSimulator({ scenario });
  const kubeconfig = join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig);
  return {
    sim,
    kubeconfig,
    close: async () => {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
