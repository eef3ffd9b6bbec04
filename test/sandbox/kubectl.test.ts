import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYMENT, POD } from '../../src/sandbox/kube-simulator/resources.js';
import { type Sandbox, kubectlMissing, scenarioWith, startSandbox } from './simulator-helpers.js';

if (kubectlMissing !== undefined) console.warn(kubectlMissing);
const withKubectl = describe.skipIf(kubectlMissing !== undefined);

/** The cells of the rows of a kubectl table (everything after its header line). */
function rows(table: string): string[][] {
  const lines = table.trim().split('\n');
  const header = lines.findIndex((l) => /^(NAME|REVISION|LAST SEEN)\s/.test(l));
  return lines.slice(header + 1).map((l) => l.trim().split(/\s{2,}/));
}

withKubectl('kubectl against crashloop-after-deploy (the runbook triage steps)', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox('crashloop-after-deploy');
  });
  afterAll(async () => sandbox.stop());

  it('kubectl get pods shows two crash-looping new pods and two serving old ones', async () => {
    const { code, stdout } = await sandbox.kubectl('get', 'pods', '-n', 'aegis');
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    const table = rows(stdout);
    expect(table.filter((r) => r[2] === 'CrashLoopBackOff').map((r) => [r[1], r[3], r[4]]))
      .toEqual([['0/1', '5 (30s ago)', '5m'], ['0/1', '5 (30s ago)', '5m']]);
    expect(table.filter((r) => r[2] === 'Running').map((r) => [r[1], r[3], r[4]]))
      .toEqual([['1/1', '0', '3d'], ['1/1', '0', '3d']]);
  });

  it('kubectl top pods reports usage of the pods that have metrics', async () => {
    const { code, stdout } = await sandbox.kubectl('top', 'pods', '-n', 'aegis');
    expect(code).toBe(0);
    expect(rows(stdout).map((r) => r.slice(1))).toEqual([['341m', '262Mi'], ['341m', '262Mi']]);
  });

  it('kubectl rollout history lists the revisions with their change-causes', async () => {
    const { code, stdout } = await sandbox.kubectl('rollout', 'history', 'deployment/aegis-api', '-n', 'aegis');
    expect(code).toBe(0);
    expect(rows(stdout)).toEqual([['1', 'deploy api v2.3.0'], ['2', 'deploy api v2.3.2'],
      ['3', 'deploy api v2.4.0'], ['4', 'deploy api v2.4.1']]);
  });

  it('kubectl logs -l app=aegis-api --tail=100 includes the FATAL line', async () => {
    const { code, stdout } = await sandbox.kubectl('logs', '-n', 'aegis', '-l', 'app=aegis-api', '--tail=100');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toContain('FATAL config: required key AEGIS_AI_PROVIDER_KEY missing');
    expect(lines.length).toBe(2 * 100 + 2 * 3);
  });

  it('kubectl logs --previous of a crash-looping pod ends with FATAL; of a never-restarted pod is a 400', async () => {
    const pods = rows((await sandbox.kubectl('get', 'pods', '-n', 'aegis')).stdout);
    const crashing = pods.find((r) => r[2] === 'CrashLoopBackOff')?.[0] ?? '';
    const serving = pods.find((r) => r[2] === 'Running')?.[0] ?? '';
    const previous = await sandbox.kubectl('logs', '-n', 'aegis', crashing, '--previous', '--timestamps');
    expect(previous.code).toBe(0);
    expect(previous.stdout.trim().split('\n').at(-1))
      .toBe('2025-06-02T09:26:50.000000000Z FATAL config: required key AEGIS_AI_PROVIDER_KEY missing');
    const none = await sandbox.kubectl('logs', '-n', 'aegis', serving, '--previous');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`previous terminated container "aegis-api" in pod "${serving}" not found`);
  });

  it('kubectl exec deployment/aegis-api -- ./aegis health runs in a serving pod', async () => {
    const { code, stdout } = await sandbox.kubectl('exec', '-n', 'aegis', 'deployment/aegis-api', '--',
      './aegis', 'health');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^status: ok\ndatabase: ok .*\nai_provider: ok .*\ncache: ok /);
  });

  it('kubectl exec into a crash-looping container is refused like a real cluster', async () => {
    const pods = rows((await sandbox.kubectl('get', 'pods', '-n', 'aegis')).stdout);
    const crashing = pods.find((r) => r[2] === 'CrashLoopBackOff')?.[0] ?? '';
    const { code, stderr } = await sandbox.kubectl('exec', '-n', 'aegis', crashing, '--', './aegis', 'health');
    expect(code).toBe(1);
    expect(stderr).toContain('container not found ("aegis-api")');
  });

  it('kubectl get deploy,rs,events,cm,hpa prints every kind', async () => {
    const { code, stdout } = await sandbox.kubectl('get', 'deploy,rs,events,cm,hpa', '-n', 'aegis');
    expect(code).toBe(0);
    expect(stdout).toMatch(/deployment\.apps\/aegis-api\s+2\/4\s+2\s+2\s+41d/);
    expect(stdout).toMatch(/replicaset\.apps\/aegis-api-\w+\s+2\s+2\s+0\s+5m/);
    expect(stdout).toMatch(/Warning\s+BackOff\s+pod\/aegis-api-\w+-\w+\s+Back-off restarting failed container aegis-api/);
    expect(stdout).toMatch(/Normal\s+ScalingReplicaSet\s+deployment\/aegis-api\s+Scaled up replica set aegis-api-\w+ to 2/);
    expect(stdout).toMatch(/configmap\/aegis-api-config\s+1\s+30d/);
    expect(stdout).toMatch(/horizontalpodautoscaler\.autoscaling\/aegis-api\s+Deployment\/aegis-api\s+cpu: 34%\/70%\s+3\s+10\s+4/);
  });

  it('kubectl get --raw reaches the pod proxy', async () => {
    const pod = rows((await sandbox.kubectl('get', 'pods', '-n', 'aegis')).stdout).find((r) => r[2] === 'Running')?.[0];
    const ok = await sandbox.kubectl('get', '--raw', `/api/v1/namespaces/aegis/pods/${pod ?? ''}:8080/proxy/healthz`);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ status: 'ok', components: { database: 'ok', ai_provider: 'ok', cache: 'ok' } });
    const refused = await sandbox.kubectl('get', '--raw', `/api/v1/namespaces/aegis/pods/${pod ?? ''}:9999/proxy/`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ServiceUnavailable.*:9999: connect: connection refused/);
  });

  it('kubectl rollout undo --dry-run=server changes nothing; rollout undo returns to v2.4.0', async () => {
    const template = (): string => JSON.stringify(
      (sandbox.sim.store.require(DEPLOYMENT, 'aegis', 'aegis-api')['spec'] as { template: unknown }).template);
    const before = template();
    const dry = await sandbox.kubectl('rollout', 'undo', 'deployment/aegis-api', '-n', 'aegis', '--dry-run=server');
    expect(dry.stdout).toContain('rolled back (server dry run)');
    expect(template()).toBe(before);
    const undo = await sandbox.kubectl('rollout', 'undo', 'deployment/aegis-api', '-n', 'aegis');
    expect(undo.code).toBe(0);
    expect(template()).toContain('registry.example.com/aegis/api:2.4.0');
    const pods = rows((await sandbox.kubectl('get', 'pods', '-n', 'aegis')).stdout);
    expect(pods.map((r) => r[2])).toEqual(['Running', 'Running', 'Running', 'Running']);
    const history = rows((await sandbox.kubectl('rollout', 'history', 'deployment/aegis-api', '-n', 'aegis')).stdout);
    expect(history.slice(-2)).toEqual([['4', 'deploy api v2.4.1'], ['5', 'deploy api v2.4.0']]);
  });

  it('kubectl scale --dry-run=server changes nothing; kubectl scale adds pods', async () => {
    const replicas = (): unknown =>
      (sandbox.sim.store.require(DEPLOYMENT, 'aegis', 'aegis-api')['spec'] as { replicas: unknown }).replicas;
    const dry = await sandbox.kubectl('scale', 'deployment/aegis-api', '-n', 'aegis', '--replicas=6',
      '--dry-run=server');
    expect(dry.code).toBe(0);
    expect(replicas()).toBe(4);
    const scaled = await sandbox.kubectl('scale', 'deployment/aegis-api', '-n', 'aegis', '--replicas=6');
    expect(scaled.stdout).toContain('deployment.apps/aegis-api scaled');
    expect(replicas()).toBe(6);
    expect(sandbox.sim.store.list(POD, 'aegis')).toHaveLength(6);
  });
});

withKubectl('kubectl against api-down, oom and healthy', () => {
  const sandboxes: Sandbox[] = [];
  const start = async (scenario: Parameters<typeof startSandbox>[0], options: { tls?: boolean } = {}): Promise<Sandbox> => {
    const sandbox = await startSandbox(scenario, options);
    sandboxes.push(sandbox);
    return sandbox;
  };
  afterAll(async () => {
    await Promise.all(sandboxes.map((s) => s.stop()));
  });

  it('api-down: no pod ready, readiness events, and ./aegis health exits 1 naming the database', async () => {
    const sandbox = await start('api-down');
    const pods = rows((await sandbox.kubectl('get', 'pods', '-n', 'aegis')).stdout);
    expect(pods.map((r) => `${r[1]} ${r[2]}`)).toEqual(['0/1 Running', '0/1 Running', '0/1 Running']);
    const events = await sandbox.kubectl('get', 'events', '-n', 'aegis', '--field-selector', 'reason=Unhealthy');
    expect(rows(events.stdout)).toHaveLength(3);
    expect(events.stdout).toContain('Readiness probe failed: HTTP probe failed with statuscode: 503');
    const health = await sandbox.kubectl('exec', '-n', 'aegis', 'deployment/aegis-api', '--', './aegis', 'health');
    expect(health.code).toBe(1);
    expect(health.stdout).toContain('database: unreachable');
    expect(health.stderr).toContain('command terminated with exit code 1');
    const errors = await sandbox.kubectl('logs', '-n', 'aegis', '-l', 'app=aegis-api', '--tail=500');
    expect(errors.stdout.split('\n').filter((l) => l.startsWith('ERROR db: connection refused')).length)
      .toBeGreaterThan(3 * 50);
  });

  it('oom: one pod restarted twice 10 minutes ago, at 490Mi, with ERROR lines before the kill', async () => {
    const sandbox = await start('oom');
    const pods = rows((await sandbox.kubectl('get', 'pods', '-n', 'aegis')).stdout);
    const restarted = pods.filter((r) => r[3] === '2 (10m ago)');
    expect(restarted).toHaveLength(1);
    const name = restarted[0]?.[0] ?? '';
    const top = rows((await sandbox.kubectl('top', 'pods', '-n', 'aegis')).stdout);
    expect(top.find((r) => r[0] === name)?.[2]).toBe('490Mi');
    expect(top.filter((r) => r[0] !== name).map((r) => r[2])).toEqual(['203Mi', '203Mi']);
    const pod = await sandbox.kubectl('get', 'pod', name, '-n', 'aegis', '-o',
      'jsonpath={.status.containerStatuses[0].lastState.terminated.reason}');
    expect(pod.stdout).toBe('OOMKilled');
    const previous = await sandbox.kubectl('logs', '-n', 'aegis', name, '--previous', '--tail=4');
    expect(previous.stdout.trim().split('\n').every((l) => l.startsWith('ERROR') || l.startsWith('WARN'))).toBe(true);
  });

  it('healthy: discovery serves kubectl api-resources; rollout restart makes revision 4 with fresh pods', async () => {
    const sandbox = await start('healthy');
    const resources = await sandbox.kubectl('api-resources');
    expect(resources.code).toBe(0);
    expect(resources.stdout).toMatch(/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    expect(resources.stdout).toMatch(/pods\s+metrics\.k8s\.io\/v1beta1\s+true\s+PodMetrics/);
    expect(resources.stdout).toMatch(/leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease/);
    const restart = await sandbox.kubectl('rollout', 'restart', 'deployment/aegis-api', '-n', 'aegis');
    expect(restart.stdout).toContain('restarted');
    const pods = rows((await sandbox.kubectl('get', 'pods', '-n', 'aegis')).stdout);
    expect(pods.map((r) => `${r[1]} ${r[2]} ${r[4]}`)).toEqual(['1/1 Running 0s', '1/1 Running 0s', '1/1 Running 0s']);
    const status = await sandbox.kubectl('rollout', 'status', 'deployment/aegis-api', '-n', 'aegis', '--timeout=5s');
    expect(status.stdout).toContain('successfully rolled out');
    const history = rows((await sandbox.kubectl('rollout', 'history', 'deployment/aegis-api', '-n', 'aegis')).stdout);
    expect(history.map((r) => r[0])).toEqual(['1', '2', '3', '4']);
  });

  it('RBAC: can-i answers from rbac.deny and a denied write is a 403 naming the user', async () => {
    const guarded = await start(scenarioWith('healthy', {
      rbac: { deny: [{ verb: 'delete', resource: 'pods', group: '', subresource: '' }] },
    }));
    const denied = await guarded.kubectl('auth', 'can-i', 'delete', 'pods', '-n', 'aegis');
    expect([denied.code, denied.stdout.trim()]).toEqual([1, 'no']);
    const allowed = await guarded.kubectl('auth', 'can-i', 'patch', 'deployments', '-n', 'aegis');
    expect([allowed.code, allowed.stdout.trim()]).toEqual([0, 'yes']);
    const pod = guarded.sim.store.list(POD, 'aegis')[0]?.metadata.name ?? '';
    const del = await guarded.kubectl('delete', 'pod', pod, '-n', 'aegis');
    expect(del.code).toBe(1);
    expect(del.stderr).toContain(`pods "${pod}" is forbidden: User "aegis-sandbox" cannot delete resource "pods"`);
    expect(guarded.sim.store.get(POD, 'aegis', pod)).toBeDefined();
  });

  it('over HTTPS, kubectl verifies the server against the kubeconfig CA and authenticates with its token', async () => {
    const secured = await start('api-down', { tls: true });
    expect(secured.sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const pods = await secured.kubectl('get', 'pods', '-n', 'aegis');
    expect(pods.code).toBe(0);
    expect(rows(pods.stdout).map((r) => r[1])).toEqual(['0/1', '0/1', '0/1']);
    // Exec upgrades to a WebSocket over TLS.
    const name = rows(pods.stdout)[0]?.[0] ?? '';
    const health = await secured.kubectl('exec', '-n', 'aegis', name, '--', './aegis', 'health');
    expect(health.code).toBe(1);
    expect(health.stdout).toContain('database: unreachable');
    const wrongToken = await secured.kubectl('--token', 'not-the-token', 'get', 'pods', '-n', 'aegis');
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain('You must be logged in to the server (Unauthorized)');
    // Trusting another CA than the sandbox's fails verification.
    const other = fileURLToPath(new URL('../fixtures/tls/unrelated-ca.crt', import.meta.url));
    const unverified = await secured.kubectl('--certificate-authority', other, 'get', 'pods', '-n', 'aegis');
    expect(unverified.code).toBe(1);
    expect(unverified.stderr).toMatch(/certificate signed by unknown authority|x509/);
  });

  it('a scenario with a token refuses kubectl, which never sends bearer tokens over plain HTTP', async () => {
    const locked = await start(scenarioWith('healthy', { token: 'test-token' }));
    const { code, stderr } = await locked.kubectl('get', 'pods', '-n', 'aegis');
    expect(code).toBe(1);
    expect(stderr).toContain('the server has asked for the client to provide credentials');
  });
});
