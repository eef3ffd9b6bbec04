import { PassThrough } from 'node:stream';
import {
  ApiException, AppsV1Api, CoreV1Api, CoordinationV1Api, Exec, KubeConfig, Metrics, type V1Status,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeSimulator, startKubeSimulator } from '../../src/sandbox/kube-simulator/index.js';
import { fixedClock, scenarioWith } from './simulator-helpers.js';

function clientFor(sim: KubeSimulator): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(sim.kubeconfigYaml());
  return kc;
}

async function apiError(promise: Promise<unknown>): Promise<ApiException<string>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiException) return error as ApiException<string>;
    throw error;
  }
  throw new Error('expected the request to fail');
}

/** Runs a command through client-node's WebSocket exec and collects what came back. */
async function exec(kc: KubeConfig, pod: string, command: string[]): Promise<{ stdout: string; status: V1Status }> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  const status = await new Promise<V1Status>((resolve, reject) => {
    new Exec(kc).exec('aegis', pod, 'aegis-api', command, stdout, null, null, false, resolve).catch(reject);
  });
  return { stdout: Buffer.concat(chunks).toString(), status };
}

describe('@kubernetes/client-node against the simulator (token-protected crashloop-after-deploy)', () => {
  let sim: KubeSimulator;
  let kc: KubeConfig;
  beforeAll(async () => {
    sim = await startKubeSimulator({
      scenario: scenarioWith('crashloop-after-deploy', { token: 'sandbox-token' }), clock: fixedClock,
    });
    kc = clientFor(sim);
  });
  afterAll(async () => sim.close());

  it('CoreV1Api lists pods by label and reads current and previous logs', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: 'aegis', labelSelector: 'app=aegis-api' });
    const crashing = pods.items.filter((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason ===
      'CrashLoopBackOff');
    expect(pods.items).toHaveLength(4);
    expect(crashing.map((p) => p.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode)).toEqual([1, 1]);
    const name = crashing[0]?.metadata?.name ?? '';
    const previous = await core.readNamespacedPodLog({ name, namespace: 'aegis', previous: true, tailLines: 1 });
    expect(previous).toBe('FATAL config: required key AEGIS_AI_PROVIDER_KEY missing\n');
    const current = await core.readNamespacedPodLog({ name, namespace: 'aegis', container: 'aegis-api' });
    expect(current.trim().split('\n')).toHaveLength(3);
  });

  it('field selectors and 404s behave like the apiserver', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const running = await core.listNamespacedPod({ namespace: 'aegis', fieldSelector: 'status.phase=Running' });
    expect(running.items).toHaveLength(4);
    const missing = await apiError(core.readNamespacedPod({ name: 'nope', namespace: 'aegis' }));
    expect(missing.code).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'pods "nope" not found' });
  });

  it('AppsV1Api sees the deployment status and ReplicaSets owned by it', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({ name: 'aegis-api', namespace: 'aegis' });
    expect(deployment.status).toMatchObject({ replicas: 4, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    const replicaSets = await apps.listNamespacedReplicaSet({ namespace: 'aegis' });
    expect(replicaSets.items.every((rs) => rs.metadata?.ownerReferences?.[0]?.uid === deployment.metadata?.uid))
      .toBe(true);
    expect(replicaSets.items.map((rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision']).sort())
      .toEqual(['1', '2', '3', '4']);
  });

  it('a stale resourceVersion is a 409 Conflict; a taken lease name is 409 AlreadyExists', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({ name: 'aegis-api', namespace: 'aegis' });
    const stale = { ...deployment, metadata: { ...deployment.metadata, resourceVersion: '1' } };
    const conflict = await apiError(apps.replaceNamespacedDeployment({ name: 'aegis-api', namespace: 'aegis',
      body: stale }));
    expect(conflict.code).toBe(409);
    expect(JSON.parse(conflict.body).message).toContain('the object has been modified');
    const leases = kc.makeApiClient(CoordinationV1Api);
    const body = { metadata: { name: 'aegis-ir-fix-rollback' }, spec: { holderIdentity: 'alice' } };
    await leases.createNamespacedLease({ namespace: 'aegis', body });
    const taken = await apiError(leases.createNamespacedLease({ namespace: 'aegis', body }));
    expect([taken.code, JSON.parse(taken.body).reason]).toEqual([409, 'AlreadyExists']);
  });

  it('Exec over WebSocket returns stdout and a Success status', async () => {
    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'aegis',
      fieldSelector: 'metadata.name!=x' });
    const ready = pods.items.find((p) => p.status?.containerStatuses?.[0]?.ready === true)?.metadata?.name ?? '';
    const { stdout, status } = await exec(kc, ready, ['./aegis', 'health']);
    expect(status.status).toBe('Success');
    expect(stdout).toContain('database: ok');
    const failed = await exec(kc, ready, ['sh', '-c', 'false']);
    expect(failed.status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '1' }] } });
  });

  it('Metrics reads pod usage from metrics.k8s.io', async () => {
    const metrics = await new Metrics(kc).getPodMetrics('aegis');
    expect(metrics.items.map((m) => m.containers[0]?.usage)).toEqual([
      { cpu: '341m', memory: '262Mi' }, { cpu: '341m', memory: '262Mi' }]);
  });

  it('a wrong token is a 401 Status', async () => {
    const wrong = new KubeConfig();
    wrong.loadFromString(sim.kubeconfigYaml().replace('sandbox-token', 'wrong-token'));
    const denied = await apiError(wrong.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'aegis' }));
    expect(denied.code).toBe(401);
    const raw = await fetch(`${sim.url}/api/v1/namespaces/aegis/pods`, { headers: { authorization: 'Bearer wrong' } });
    expect(await raw.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });
});
