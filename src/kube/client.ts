import http from 'node:http';
import https from 'node:https';
import { Writable } from 'node:stream';
import type { V1Status } from '@kubernetes/client-node';
import { UnreachableError } from '../core/errors.js';
import { describeNetworkCode, isTlsCode, networkCode } from '../core/network.js';
import { loadKubeConfig } from './kubeconfig.js';
import type { AccessCheck, ExecResult, KubePort, KubeTarget, LogOptions, ObjectPatch, ProxyResponse, WriteOptions } from './port.js';

/** Largest exec output kept; health commands print a few lines. */
const EXEC_OUTPUT_LIMIT = 64 * 1024;

/**
 * Connects a {@link KubePort} to the cluster named by the kubeconfig. `@kubernetes/client-node` is
 * imported here, on first use, so commands that never talk to a cluster start at plain-node speed.
 */
export async function connectKube(target: KubeTarget, env: Record<string, string | undefined>): Promise<KubePort> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  loadKubeConfig(kc, target, env);
  const server = kc.getCurrentCluster()?.server ?? 'unknown server';
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const authorization = kc.makeApiClient(k8s.AuthorizationV1Api);
  const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
  const autoscaling = kc.makeApiClient(k8s.AutoscalingV2Api);
  const patchAs = (patch: ObjectPatch) =>
    k8s.setHeaderOptions('Content-Type', patch.type === 'json' ? k8s.PatchStrategy.JsonPatch : k8s.PatchStrategy.StrategicMergePatch);
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const dryRunOf = (options: WriteOptions) => (options.dryRun ? 'All' : undefined);
  const metrics = new k8s.Metrics(kc);
  const exec = new k8s.Exec(kc);
  const { namespace } = target;
  const call = <T>(what: string, request: () => Promise<T>) => withKubeErrors(server, what, request);

  return {
    namespace,
    server,
    context: kc.getCurrentContext() || null,
    listPods: (labelSelector) =>
      call('list pods', async () => (await core.listNamespacedPod({ namespace, labelSelector })).items),
    readDeployment: (name) =>
      call(`get deployment/${name}`, async () => {
        try {
          return await apps.readNamespacedDeployment({ name, namespace });
        } catch (error) {
          if (statusOf(error) === 404) return null;
          throw error;
        }
      }),
    listReplicaSets: (labelSelector) =>
      call('list replicasets', async () => (await apps.listNamespacedReplicaSet({ namespace, labelSelector })).items),
    listDeploymentNames: () =>
      call('list deployments', async () =>
        (await apps.listNamespacedDeployment({ namespace })).items.map((d) => d.metadata?.name ?? '').filter(Boolean),
      ),
    namespaceExists: () =>
      call(`get namespace/${namespace}`, async () => {
        try {
          await core.readNamespace({ name: namespace });
          return true;
        } catch (error) {
          if (statusOf(error) === 404) return false;
          if (statusOf(error) === 403) return null;
          throw error;
        }
      }),
    listEvents: () => call('list events', async () => (await core.listNamespacedEvent({ namespace })).items),
    readNode: (name) =>
      call(`get node/${name}`, async () => {
        try {
          return await core.readNode({ name });
        } catch (error) {
          if (statusOf(error) === 404 || statusOf(error) === 403) return null;
          throw error;
        }
      }),
    listPodMetrics: () =>
      call('list pod metrics', async () => {
        try {
          return (await metrics.getPodMetrics(namespace)).items;
        } catch (error) {
          // No metrics.k8s.io on this cluster (metrics-server not installed). A 5xx is a metrics-server
          // that is installed and failing: the evidence exists and could not be had.
          if (statusOf(error) === 404) return null;
          const status = statusOf(error);
          // client-node drops the body of these answers; the status says enough.
          if (status !== undefined && status >= 500) {
            throw new Error(`metrics.k8s.io answered ${status}${status === 503 ? ' Service Unavailable' : ''}: metrics-server is installed but not serving (check: kubectl get apiservice v1beta1.metrics.k8s.io)`);
          }
          throw error;
        }
      }),
    readPodLog: (pod: string, options: LogOptions) =>
      call(`logs pod/${pod}`, async () => {
        try {
          return await core.readNamespacedPodLog({
            name: pod,
            namespace,
            container: options.container,
            tailLines: options.tailLines,
            limitBytes: options.limitBytes,
            previous: options.previous,
            timestamps: options.timestamps,
          });
        } catch (error) {
          // Asking for the previous container's log of a container that never restarted.
          if (options.previous && statusOf(error) === 400) return '';
          throw error;
        }
      }),
    listNodeEvents: (fieldSelector) =>
      call('list node events', async () => (await core.listNamespacedEvent({ namespace: 'default', fieldSelector })).items),
    proxyGet: (pod, port, path, limitBytes) =>
      call(`get pods/${pod}:${port}/proxy${path}`, async () => {
        const url = new URL(`${server.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}:${port}/proxy${path}`);
        const options: https.RequestOptions = {};
        await kc.applyToHTTPSOptions(options);
        return rawGet(url, options, limitBytes);
      }),
    evictPod: (name, options) =>
      call(`create pods/${name}/eviction`, async () => {
        try {
          await core.createNamespacedPodEviction({
            name,
            namespace,
            body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } },
            dryRun: dryRunOf(options),
          });
          return { evicted: true } as const;
        } catch (error) {
          if (statusOf(error) === 429) return { evicted: false, blocked: refusalOf(error) } as const;
          throw error;
        }
      }),
    readConfigMap: (name) =>
      call(`get configmap/${name}`, () => orNull(core.readNamespacedConfigMap({ name, namespace }))),
    listConfigMaps: (labelSelector) =>
      call('list configmaps', async () => (await core.listNamespacedConfigMap({ namespace, labelSelector })).items),
    createConfigMap: (configMap) =>
      call('create configmap', () => unlessStatus([409], async () => {
        await core.createNamespacedConfigMap({ namespace, body: configMap });
      })),
    replaceConfigMap: (configMap) =>
      call(`replace configmap/${configMap.metadata?.name}`, () => unlessStatus([409, 404], async () => {
        await core.replaceNamespacedConfigMap({ name: configMap.metadata?.name ?? '', namespace, body: configMap });
      })),
    patchConfigMap: (name, data, options) =>
      call(`patch configmap/${name}`, () =>
        core.patchNamespacedConfigMap({ name, namespace, body: { data }, dryRun: dryRunOf(options) }, mergePatch),
      ),
    restartDeployment: (name, at, options) =>
      call(`patch deployment/${name}`, () =>
        apps.patchNamespacedDeployment(
          {
            name,
            namespace,
            body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } },
            dryRun: dryRunOf(options),
          },
          mergePatch,
        ),
      ),
    canI: (access: AccessCheck) =>
      call('create selfsubjectaccessreview', async () => {
        const review = await authorization.createSelfSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: { resourceAttributes: { namespace, verb: access.verb, resource: access.resource, subresource: access.subresource, group: access.group, name: access.name } },
          },
        });
        return review.status?.allowed === true;
      }),
    readLease: (name) => call(`get lease/${name}`, () => orNull(coordination.readNamespacedLease({ name, namespace }))),
    createLease: (lease) =>
      call('create lease', () => unlessStatus([409], async () => {
        await coordination.createNamespacedLease({ namespace, body: lease });
      })),
    replaceLease: (lease) =>
      call(`replace lease/${lease.metadata?.name}`, () => unlessStatus([409, 404], async () => {
        await coordination.replaceNamespacedLease({ name: lease.metadata?.name ?? '', namespace, body: lease });
      })),
    deleteLease: (name, resourceVersion) =>
      call(`delete lease/${name}`, async () => {
        try {
          await coordination.deleteNamespacedLease({ name, namespace, body: resourceVersion ? { preconditions: { resourceVersion } } : undefined });
          return true;
        } catch (error) {
          if (statusOf(error) === 404) return true;
          if (statusOf(error) === 409) return false;
          throw error;
        }
      }),
    listHorizontalPodAutoscalers: () =>
      call('list horizontalpodautoscalers', async () => (await autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace })).items),
    patchDeployment: (name, patch, options) =>
      call(`patch deployment/${name}`, () =>
        apps.patchNamespacedDeployment({ name, namespace, body: patch.body, dryRun: dryRunOf(options) }, patchAs(patch)),
      ),
    patchHorizontalPodAutoscaler: (name, patch, options) =>
      call(`patch horizontalpodautoscaler/${name}`, () =>
        autoscaling.patchNamespacedHorizontalPodAutoscaler({ name, namespace, body: patch.body, dryRun: dryRunOf(options) }, patchAs(patch)),
      ),
    exec: (pod, container, command) =>
      call(`exec pod/${pod}`, () =>
        new Promise<ExecResult>((resolve, reject) => {
          const stdout = boundedSink();
          const stderr = boundedSink();
          exec
            .exec(namespace, pod, container, command, stdout.stream, stderr.stream, null, false, (status: V1Status) => {
              try {
                resolve({ exitCode: exitCodeOf(status), stdout: stdout.text(), stderr: stderr.text() });
              } catch (error) {
                reject(error);
              }
            })
            .then((socket) => socket.on('error', reject))
            .catch(reject);
        }),
      ),
  };
}

/** A write that answers true when done and false on one of `statuses` (a name taken, a stale resourceVersion). */
async function unlessStatus(statuses: number[], write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    const status = statusOf(error);
    if (status !== undefined && statuses.includes(status)) return false;
    throw error;
  }
}

/**
 * A GET answered with raw bytes (a heap profile is binary, which the generated clients would decode as text),
 * with the kubeconfig's credentials and CA; the body is cut at `limitBytes`. A status other than 401/403 is
 * the caller's to read.
 */
function rawGet(url: URL, options: https.RequestOptions, limitBytes: number): Promise<ProxyResponse> {
  return new Promise((resolve, reject) => {
    const tls = url.protocol === 'https:';
    const request = (tls ? https.request : http.request)(
      url,
      { ...options, ...(tls ? {} : { agent: undefined }), method: 'GET', headers: { ...options.headers, Accept: '*/*' } },
      (response) => {
        const status = response.statusCode ?? 0;
        if (status === 401 || status === 403) {
          response.resume();
          reject(Object.assign(new Error(`${status}`), { code: status }));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        response.on('data', (chunk: Buffer) => {
          if (size + chunk.length > limitBytes) {
            chunks.push(chunk.subarray(0, limitBytes - size));
            size = limitBytes;
            truncated = true;
            response.destroy();
            resolve({ status, contentType: String(response.headers['content-type'] ?? ''), body: Buffer.concat(chunks), truncated });
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        response.on('end', () => resolve({ status, contentType: String(response.headers['content-type'] ?? ''), body: Buffer.concat(chunks), truncated }));
        response.on('error', (error) => {
          if (!truncated) reject(error);
        });
      },
    );
    request.on('error', reject);
    request.end();
  });
}

/** Why the Eviction API refused: its message and the disruption budget's cause. */
function refusalOf(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  let status: { message?: string; details?: { causes?: Array<{ message?: string }> } } = {};
  try {
    status = (typeof body === 'string' ? JSON.parse(body) : body) ?? {};
  } catch {
    return apiMessage(error);
  }
  const causes = (status.details?.causes ?? []).map((c) => c.message).filter(Boolean);
  return `${status.message ?? apiMessage(error)}${causes.length ? ` (${causes.join('; ')})` : ''}`;
}

/** A read that answers null for 404 Not Found. */
async function orNull<T>(request: Promise<T>): Promise<T | null> {
  try {
    return await request;
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw error;
  }
}

/** Translates transport failures and refused access into {@link UnreachableError} (exit 4). */
async function withKubeErrors<T>(server: string, what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    const status = statusOf(error);
    if (status === 401 || status === 403) {
      throw new UnreachableError(
        'cluster',
        `the Kubernetes API at ${server} refused access to ${what} (${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'})`,
        'check your credentials: kubectl auth can-i --list',
      );
    }
    const code = networkCode(error);
    if (code) {
      throw new UnreachableError(
        'cluster',
        `cannot reach the Kubernetes API at ${server} (${describeNetworkCode(code)})`,
        isTlsCode(code)
          ? "check the cluster's certificate-authority in the kubeconfig, then try: kubectl cluster-info"
          : 'check --kubeconfig and --context, then try: kubectl cluster-info',
      );
    }
    if (status !== undefined) {
      throw new Error(`Kubernetes API ${what} failed with ${status}: ${apiMessage(error)}`);
    }
    throw error;
  }
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return (body as { message?: string } | undefined)?.message ?? (error as Error).message;
}

function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (status.reason === 'NonZeroExitCode' && cause?.message) return Number(cause.message);
  throw new Error(`exec failed: ${status.message ?? status.reason ?? 'unknown error'}`);
}

function boundedSink(): { stream: Writable; text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (size < EXEC_OUTPUT_LIMIT) {
        chunks.push(chunk.subarray(0, EXEC_OUTPUT_LIMIT - size));
        size += chunk.length;
      }
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}
