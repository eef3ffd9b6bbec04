import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { readAppLogs } from '../../../src/checks/kubernetes/error-logs.js';
import type { KubePort, LogOptions } from '../../../src/kube/port.js';
import { testConfig } from '../../helpers/config.js';
import { testContext } from '../../helpers/context.js';
import { workloadPort } from '../../helpers/workload.js';

function pod(name: string, status: Partial<V1ContainerStatus> | null): V1Pod {
  return {
    metadata: { name },
    spec: { containers: [{ name: 'aegis-api' }] },
    status: status ? { containerStatuses: [{ name: 'aegis-api', image: 'api', imageID: '', ready: false, restartCount: 0, ...status }] } : { phase: 'Pending' },
  };
}

/** A cluster whose API answers 400 for the log of a container that never started, as the kubelet does. */
function cluster(pods: V1Pod[]): KubePort {
  return workloadPort(pods, {
    readPodLog: async (name: string, options: LogOptions) => {
      const status = pods.find((p) => p.metadata?.name === name)?.status?.containerStatuses?.[0];
      const started = status && (status.restartCount > 0 || status.state?.running || status.state?.terminated);
      if (!started) throw new Error(`Kubernetes API logs pod/${name} failed with 400: container is waiting to start`);
      return `2026-11-26T11:59:00Z ${options.previous ? 'FATAL previous' : 'ERROR current'} of ${name}\n`;
    },
  });
}

describe('readAppLogs', () => {
  it('still asks for a container no status names, so a wrong app.container is reported', async () => {
    const misnamed = pod('misnamed', { state: { running: {} } });
    const kube = workloadPort([misnamed], {
      readPodLog: async (_pod: string, options: LogOptions) => {
        throw new Error(`Kubernetes API logs pod/misnamed failed with 400: container ${options.container} is not valid for pod misnamed`);
      },
    });
    const ctx = testContext({ kube: async () => kube, config: testConfig({ 'app.container': 'api' }) });
    await expect(readAppLogs(ctx, 100)).rejects.toThrow('container api is not valid for pod misnamed');
  });

  it("reads a crash loop's one instance once, a restarted running one twice, and passes over pods not started yet", async () => {
    const kube = cluster([
      pod('running', { state: { running: {} } }),
      pod('crash-looping', { restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }),
      pod('restarted', { restartCount: 1, state: { running: {} } }),
      pod('pulling', { state: { waiting: { reason: 'ImagePullBackOff' } } }),
      pod('unscheduled', null),
    ]);
    const { reads } = await readAppLogs(testContext({ kube: async () => kube }), 100);
    expect(reads.map((r) => [r.pod, r.previous]).sort()).toEqual([
      ['crash-looping', false],
      ['restarted', false],
      ['restarted', true],
      ['running', false],
    ]);
  });
});
