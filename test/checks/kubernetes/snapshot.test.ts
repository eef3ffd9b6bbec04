import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRIAGE_CHECKS } from '../../../src/checks/triage-checks.js';
import { runChecks } from '../../../src/checks/runner.js';
import { appContainerName, readAhead, workloadSnapshot } from '../../../src/checks/kubernetes/snapshot.js';
import { evaluateHealth, healthExecCheck, type HealthEvidence } from '../../../src/checks/kubernetes/health-exec.js';
import { connectKube } from '../../../src/kube/client.js';
import type { KubePort } from '../../../src/kube/port.js';
import { testConfig } from '../../helpers/config.js';
import { testContext } from '../../helpers/context.js';
import { simulatedCluster, type SimulatedCluster } from '../../helpers/simulator.js';
import { workloadPort } from '../../helpers/workload.js';

const pod = (containers: string[], annotation?: string): V1Pod => ({
  metadata: { name: 'p', ...(annotation ? { annotations: { 'kubectl.kubernetes.io/default-container': annotation } } : {}) },
  spec: { containers: containers.map((name) => ({ name })) },
});

describe('the app container, by kubectl rule', () => {
  const app = testConfig().app;
  it.each([
    ['app.container when configured', pod(['istio-proxy', 'aegis-api']), { ...app, container: 'api' }, 'api'],
    ['the default-container annotation', pod(['istio-proxy', 'api'], 'api'), app, 'api'],
    ['the container named like the deployment', pod(['linkerd-proxy', 'aegis-api']), app, 'aegis-api'],
    ['the first, when the annotation names no container', pod(['first', 'second'], 'gone'), app, 'first'],
  ])('is %s', (_rule, p, config, expected) => {
    expect(appContainerName(p, config)).toBe(expected);
  });
});

/** Counts each port call, so a test can say how often the run asked the cluster for what. */
function counting(port: KubePort): { port: KubePort; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(port, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(key), (calls.get(String(key)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { port: proxy, calls };
}

describe('one workload snapshot per run', () => {
  let cluster: SimulatedCluster;
  beforeAll(async () => {
    cluster = await simulatedCluster('crashloop-after-deploy');
  });
  afterAll(() => cluster.close());

  it('lists pods, ReplicaSets and events once and reads the Deployment once, for every check of the run', async () => {
    const { port, calls } = counting(await connectKube({ kubeconfig: cluster.kubeconfig, namespace: 'aegis' }, {}));
    const ctx = testContext({ kube: async () => port });
    const outcomes = await runChecks(ctx, [...TRIAGE_CHECKS], { checkTimeoutMs: 10_000, timeoutMs: 20_000 });
    expect(outcomes.filter((o) => o.target === 'cluster').map((o) => o.status)).not.toContain('errored');
    expect([calls.get('listPods'), calls.get('readDeployment'), calls.get('listReplicaSets'), calls.get('listEvents')]).toEqual([1, 1, 1, 1]);
    // A second run (the verification after a fix) sees the cluster afresh.
    await runChecks(ctx, [...TRIAGE_CHECKS], { checkTimeoutMs: 10_000, timeoutMs: 20_000 });
    expect(calls.get('listPods')).toBe(2);
  });

  it('reads the workload ahead of the checks for their run only, once, with the requests on their way when it returns', async () => {
    const { port, calls } = counting(await connectKube({ kubeconfig: cluster.kubeconfig, namespace: 'aegis' }, {}));
    const ctx = testContext({ kube: async () => port });
    await readAhead(ctx);
    expect([calls.get('listPods'), calls.get('readDeployment'), calls.get('listReplicaSets'), calls.get('listEvents')]).toEqual([1, 1, 1, 1]);
    const outcomes = await runChecks(ctx, [...TRIAGE_CHECKS], { checkTimeoutMs: 10_000, timeoutMs: 20_000 });
    expect(outcomes.filter((o) => o.target === 'cluster').map((o) => o.status)).not.toContain('errored');
    expect(calls.get('listPods')).toBe(1);
    // The run after it reads the cluster afresh.
    await runChecks(ctx, [...TRIAGE_CHECKS], { checkTimeoutMs: 10_000, timeoutMs: 20_000 });
    expect(calls.get('listPods')).toBe(2);
  });

  it('says a namespace that does not exist is a usage error, as kubectl would', async () => {
    const kube = await connectKube({ kubeconfig: cluster.kubeconfig, namespace: 'aegis-typo' }, {});
    await expect(workloadSnapshot(testContext({ kube: async () => kube }))).rejects.toThrow('namespace "aegis-typo" not found');
  });

  it('names what it looked for and the Deployments that exist when the Deployment is missing', async () => {
    const kube = await connectKube({ kubeconfig: cluster.kubeconfig, namespace: 'aegis' }, {});
    const snapshot = await workloadSnapshot(testContext({ kube: async () => kube, config: testConfig({ 'app.deployment': 'aegis-web' }) }));
    expect(snapshot.deployment).toBeNull();
    expect(snapshot.existing).toEqual(['aegis-api']);
    expect(snapshot.pods).toEqual([]);
  });
});

describe('a Deployment answer that is not one', () => {
  it.each([
    ['an empty object', {}],
    ['another object', { kind: 'Status', metadata: {} }],
  ])('is an error, never an empty workload: %s', async (_what, answer) => {
    const kube = workloadPort([], { readDeployment: async () => answer });
    await expect(workloadSnapshot(testContext({ kube: async () => kube }))).rejects.toThrow(
      /^the Kubernetes API answered get deployment\/aegis-api with something that is not a Deployment \(/,
    );
  });
});

describe('health exec, pod by pod', () => {
  const running = (name: string): V1Pod => ({
    metadata: { name },
    spec: { containers: [{ name: 'aegis-api' }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'aegis-api', image: 'api', imageID: '', ready: true, restartCount: 0, state: { running: {} } }],
    },
  });

  it('takes one pod\'s exec failure as that pod\'s evidence and runs the command in the next', async () => {
    const kube = workloadPort([running('a'), running('b')], {
      exec: async (name: string) => {
        if (name === 'a') throw new Error('exec failed: container not found ("aegis-api")');
        return { exitCode: 0, stdout: 'status: ok\n', stderr: '' };
      },
    });
    const evidence = (await healthExecCheck.collect(testContext({ kube: async () => kube }))) as HealthEvidence;
    expect(evidence.runs.map((r) => [r.pod, r.exitCode])).toEqual([['b', 0]]);
    const findings = evaluateHealth(evidence, { config: testConfig(), now: new Date() });
    expect(findings.map((f) => [f.code, f.severity])).toEqual([['AEG-1042', null]]);
    expect(findings[0]?.summary).toBe('./aegis health could not be run in 1 of 2 pod(s): a: exec failed: container not found ("aegis-api")');
  });

  it('errors when the command could be run in no pod', async () => {
    const kube = workloadPort([running('a')], { exec: async () => Promise.reject(new Error('exec failed: boom')) });
    await expect(healthExecCheck.collect(testContext({ kube: async () => kube }))).rejects.toThrow('could not be run in any pod: a: exec failed: boom');
  });
});

