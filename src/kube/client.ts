import type { PodMetric, V1Deployment, V1Lease, V1Status } from '@kubernetes/client-node';
import { abortReason } from '../core/cancellation.js';
import { UnreachableError } from '../core/errors.js';
import { messageLine } from '../core/neutralise.js';
import { execOverWebSocket } from './exec.js';
import { readKubeConfig } from './kubeconfig.js';
import type { AccessCheck, KubePort, KubeTarget, ObjectPatch, WriteOptions } from './port.js';
import { KubeTransport, THROTTLE_ATTEMPTS, type KubeAnswer, type KubeRequest, type Method } from './transport.js';
import { checkName, checkNamespace } from './names.js';

/**
 * Connects a {@link KubePort} to the cluster named by the kubeconfig. Only `KubeConfig` is taken from
 * `@kubernetes/client-node`: its generated API classes make a new TLS connection per request and are most
 * of its size. This module is imported on first use, so commands that never talk to a cluster start at
 * plain-node speed.
 */
export async function connectKube(target: KubeTarget, env: Record<string, string | undefined>): Promise<KubePort> {
  const kc = await readKubeConfig(target, env);
  const namespace = checkNamespace(target.namespace);
  const server = kc.getCurrentCluster()?.server ?? 'unknown server';
  const transport = new KubeTransport(kc, server);
  const api = new KubeApi(transport);
  const ns = encodeURIComponent(namespace);
  const core = (resource: string, name?: string, sub?: string) => objectPath(`/api/v1/namespaces/${ns}/${resource}`, name, sub);
  const apps = (resource: string, name?: string) => objectPath(`/apis/apps/v1/namespaces/${ns}/${resource}`, name);
  const leases = (name?: string) => objectPath(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, name);
  const hpas = (name?: string) => objectPath(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`, name);
  const dryRunOf = (options: WriteOptions) => (options.dryRun ? 'All' : undefined);
  const patchType = (patch: ObjectPatch) => (patch.type === 'json' ? JSON_PATCH : STRATEGIC_MERGE_PATCH);
  const items = <T>(list: { items?: T[] } | null): T[] => list?.items ?? [];

  return {
    namespace,
    server,
    context: kc.getCurrentContext() || null,
    get connectionsOpened() {
      return transport.connectionsOpened;
    },
    close: () => transport.close(),
    listPods: async (labelSelector, signal) =>
      items(await api.read('GET', core('pods'), 'list pods', signal, { query: { labelSelector } })),
    readDeployment: async (name, signal) => api.read('GET', apps('deployments', name), `get deployment/${name}`, signal, { orNull: [404] }),
    listReplicaSets: async (labelSelector, signal) =>
      items(await api.read('GET', apps('replicasets'), 'list replicasets', signal, { query: { labelSelector } })),
    listDeploymentNames: async (signal) =>
      items(await api.read<{ items?: V1Deployment[] }>('GET', apps('deployments'), 'list deployments', signal))
        .map((d) => d.metadata?.name ?? '')
        .filter(Boolean),
    namespaceExists: async (signal) => {
      const answer = await api.send(
        { method: 'GET', path: objectPath('/api/v1/namespaces', namespace), what: `get namespace/${namespace}`, signal },
        [200, 403, 404],
      );
      return answer.status === 200 ? true : answer.status === 404 ? false : null;
    },
    listEvents: async (signal) => items(await api.read('GET', core('events'), 'list events', signal)),
    readNode: async (name, signal) => api.read('GET', objectPath('/api/v1/nodes', name), `get node/${name}`, signal, { orNull: [403, 404] }),
    listNodeEvents: async (fieldSelector, signal) =>
      items(await api.read('GET', '/api/v1/namespaces/default/events', 'list node events', signal, { query: { fieldSelector } })),
    proxyGet: async (pod, port, path, limitBytes, signal) => {
      const what = `get pods/${pod}:${port}/proxy${path}`;
      const [route, search] = path.split('?', 2);
      const answer = await transport.send({
        method: 'GET',
        path: `${core('pods', pod)}:${Number(port)}/proxy${route ?? ''}`,
        query: Object.fromEntries(new URLSearchParams(search ?? '')),
        what,
        signal,
        accept: '*/*',
        limitBytes,
      });
      if (answer.status === 401 || answer.status === 403) throw api.statusError(what, answer);
      return { status: answer.status, contentType: answer.contentType, body: answer.body, truncated: answer.truncated ?? false };
    },
    evictPod: async (name, options, signal) => {
      const answer = await api.send(
        {
          method: 'POST',
          path: core('pods', name, 'eviction'),
          what: `create pods/${name}/eviction`,
          signal,
          body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } },
          query: { dryRun: dryRunOf(options) },
          retryThrottled: false,
        },
        [200, 201, 429],
      );
      return answer.status === 429 ? { evicted: false, blocked: refusalOf(answer) } : { evicted: true };
    },
    listPodMetrics: async (signal) => {
      const what = 'list pod metrics';
      const request = { method: 'GET' as const, path: `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods`, what, signal };
      const answer = await transport.send(request);
      // No metrics.k8s.io on this cluster (metrics-server not installed): null. A 5xx is a metrics-server
      // that is installed and failing: the evidence exists and could not be had.
      if (answer.status === 404) return null;
      if (answer.status >= 500) {
        throw new Error(
          `metrics.k8s.io answered ${answer.status}${answer.status === 503 ? ' Service Unavailable' : ''}: metrics-server is installed but not serving (check: kubectl get apiservice v1beta1.metrics.k8s.io)`,
        );
      }
      return items(await api.parseAnswer<{ items?: PodMetric[] }>(request, answer));
    },
    readPodLog: async (pod, options, signal) => {
      const answer = await api.send(
        {
          method: 'GET',
          path: core('pods', pod, 'log'),
          what: `read the log of pod/${pod}`,
          signal,
          query: {
            container: options.container,
            tailLines: options.tailLines,
            limitBytes: options.limitBytes,
            previous: options.previous || undefined,
            timestamps: options.timestamps || undefined,
          },
        },
        // Asking for the previous container's log of a container that never restarted is a 400.
        options.previous ? [200, 400] : [200],
      );
      return answer.status === 200 ? answer.body.toString('utf8') : '';
    },
    exec: async (pod, container, command, signal) => {
      const what = `exec in pod/${pod}`;
      const upgrade = await transport.upgrade(core('pods', pod, 'exec'), { command, container, stdout: true, stderr: true });
      return execOverWebSocket(upgrade, signal, {
        refused: (answer) => api.statusError(what, answer),
        broken: (error) => (signal.aborted ? abortReason(signal, 'cluster') : transport.transportError(error, what)),
        failed: (status: V1Status) =>
          new UnreachableError('cluster', `the Kubernetes API at ${server} could not ${what}: ${messageLine(status.message ?? status.reason ?? 'unknown error')}`),
        incomplete: () => new UnreachableError('cluster', `the Kubernetes API at ${server} closed the ${what} session before the command's exit status`),
      });
    },
    readConfigMap: async (name, signal) => api.read('GET', core('configmaps', name), `get configmap/${name}`, signal, { orNull: [404] }),
    listConfigMaps: async (labelSelector, signal) =>
      items(await api.read('GET', core('configmaps'), 'list configmaps', signal, { query: { labelSelector } })),
    createConfigMap: async (configMap, signal) =>
      (await api.send({ method: 'POST', path: core('configmaps'), what: 'create configmap', signal, body: configMap }, [201, 200, 409])).status !== 409,
    replaceConfigMap: async (configMap, signal) => {
      const name = configMap.metadata?.name ?? '';
      const answer = await api.send(
        { method: 'PUT', path: core('configmaps', name), what: `replace configmap/${name}`, signal, body: configMap },
        [200, 201, 404, 409],
      );
      return answer.status === 200 || answer.status === 201;
    },
    patchConfigMap: async (name, data, options, signal) =>
      api.write('PATCH', core('configmaps', name), `patch configmap/${name}`, signal, { data }, { contentType: MERGE_PATCH, dryRun: dryRunOf(options) }),
    restartDeployment: async (name, at, options, signal) =>
      api.write(
        'PATCH',
        apps('deployments', name),
        `patch deployment/${name}`,
        signal,
        { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } },
        { contentType: MERGE_PATCH, dryRun: dryRunOf(options) },
      ),
    canI: async (access: AccessCheck, signal) => {
      const review = await api.write<{ status?: { allowed?: boolean } }>(
        'POST',
        '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        'create selfsubjectaccessreview',
        signal,
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: { namespace, verb: access.verb, resource: access.resource, subresource: access.subresource, group: access.group, name: access.name },
          },
        },
      );
      return review.status?.allowed === true;
    },
    readLease: async (name, signal) => api.read('GET', leases(name), `get lease/${name}`, signal, { orNull: [404] }),
    createLease: async (lease, signal) =>
      (await api.send({ method: 'POST', path: leases(), what: 'create lease', signal, body: leaseBody(lease) }, [201, 200, 409])).status !== 409,
    replaceLease: async (lease, signal) => {
      const name = lease.metadata?.name ?? '';
      const answer = await api.send({ method: 'PUT', path: leases(name), what: `replace lease/${name}`, signal, body: leaseBody(lease) }, [200, 201, 404, 409]);
      return answer.status === 200 || answer.status === 201;
    },
    deleteLease: async (name, resourceVersion, signal) => {
      const body = resourceVersion ? { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion } } : undefined;
      const answer = await api.send({ method: 'DELETE', path: leases(name), what: `delete lease/${name}`, signal, body }, [200, 202, 404, 409]);
      return answer.status !== 409;
    },
    listHorizontalPodAutoscalers: async (signal) => items(await api.read('GET', hpas(), 'list horizontalpodautoscalers', signal)),
    patchDeployment: async (name, patch, options, signal) =>
      api.write('PATCH', apps('deployments', name), `patch deployment/${name}`, signal, patch.body, { contentType: patchType(patch), dryRun: dryRunOf(options) }),
    patchHorizontalPodAutoscaler: async (name, patch, options, signal) =>
      api.write('PATCH', hpas(name), `patch horizontalpodautoscaler/${name}`, signal, patch.body, {
        contentType: patchType(patch),
        dryRun: dryRunOf(options),
      }),
  };
}

const MERGE_PATCH = 'application/merge-patch+json';
const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';

/** `<collection>/<name>/<subresource>`, the name validated and encoded. */
function objectPath(collection: string, name?: string, sub?: string): string {
  if (name === undefined) return collection;
  return `${collection}/${encodeURIComponent(checkName(name))}${sub ? `/${sub}` : ''}`;
}

/** Lease times are MicroTime: RFC 3339 with exactly six fractional digits, or the API server refuses them. */
function leaseBody(lease: V1Lease): V1Lease {
  const micro = (time: Date | undefined) => (time === undefined ? undefined : (`${new Date(time).toISOString().slice(0, -1)}000Z` as unknown as Date));
  if (!lease.spec) return lease;
  return { ...lease, spec: { ...lease.spec, acquireTime: micro(lease.spec.acquireTime), renewTime: micro(lease.spec.renewTime) } };
}

/** Object fields holding times, revived as `Date` like client-node's deserialiser does. */
const TIME_FIELDS = new Set([
  'creationTimestamp',
  'deletionTimestamp',
  'startTime',
  'startedAt',
  'finishedAt',
  'lastTransitionTime',
  'lastProbeTime',
  'lastHeartbeatTime',
  'lastUpdateTime',
  'lastScaleTime',
  'firstTimestamp',
  'lastTimestamp',
  'eventTime',
  'lastObservedTime',
  'acquireTime',
  'renewTime',
  'timestamp',
  'time',
]);
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/**
 * Turns the RFC 3339 strings of the time fields, at any depth, into `Date`s. A walk after a plain
 * `JSON.parse`: a reviver makes parsing the list of 5,000 pods several times slower.
 */
function reviveTimes(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) reviveTimes(item);
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const field = record[key];
      if (typeof field === 'string') {
        if (TIME_FIELDS.has(key) && RFC3339.test(field)) record[key] = new Date(field);
      } else if (typeof field === 'object' && field !== null) {
        reviveTimes(field);
      }
    }
  }
}

/** Requests with the answers checked: the statuses a caller handles, else one translated error. */
class KubeApi {
  constructor(private readonly transport: KubeTransport) {}

  /** Sends and accepts only `expect` statuses; any other is turned into an error naming the server. */
  async send(request: KubeRequest, expect: number[] = [200, 201]): Promise<KubeAnswer> {
    const answer = await this.transport.send(request);
    if (!expect.includes(answer.status)) throw this.statusError(request.what, answer);
    return answer;
  }

  /** A JSON read; `orNull` statuses answer null (404 for an object that does not exist). */
  async read<T>(method: Method, path: string, what: string, signal: AbortSignal, options: { query?: KubeRequest['query']; orNull: number[] }): Promise<T | null>;
  async read<T>(method: Method, path: string, what: string, signal: AbortSignal, options?: { query?: KubeRequest['query'] }): Promise<T>;
  async read<T>(method: Method, path: string, what: string, signal: AbortSignal, options: { query?: KubeRequest['query']; orNull?: number[] } = {}): Promise<T | null> {
    const orNull = options.orNull ?? [];
    const answer = await this.send({ method, path, what, signal, query: options.query }, [200, ...orNull]);
    return orNull.includes(answer.status) ? null : this.parse<T>(what, answer);
  }

  /** Checks an answer already read (200 or 201), as {@link send} would, and parses it. */
  parseAnswer<T>(request: KubeRequest, answer: KubeAnswer): T {
    if (answer.status !== 200 && answer.status !== 201) throw this.statusError(request.what, answer);
    return this.parse<T>(request.what, answer);
  }

  /** A JSON write (server-side dry run with `dryRun: 'All'`). */
  async write<T>(method: Method, path: string, what: string, signal: AbortSignal, body: unknown, options: { contentType?: string; dryRun?: string } = {}): Promise<T> {
    const answer = await this.send({ method, path, what, signal, body, contentType: options.contentType, query: { dryRun: options.dryRun } });
    return this.parse<T>(what, answer);
  }

  /** The API server's refusal of `what` in one line: its Status message, never a dump of the response. */
  statusError(what: string, answer: KubeAnswer): Error {
    const server = this.transport.server;
    const status = answer.status;
    const message = statusMessage(answer);
    if (status === 401 || status === 403) {
      return new UnreachableError(
        'cluster',
        `the Kubernetes API at ${server} refused access to ${what} (${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'})`,
        status === 401 ? 'your credentials were not accepted; log in again, then try: kubectl auth whoami' : 'check your rights: kubectl auth can-i --list',
      );
    }
    if (status === 429) {
      return new UnreachableError(
        'cluster',
        `the Kubernetes API at ${server} is throttling requests (429 Too Many Requests) and still refused to ${what} after ${THROTTLE_ATTEMPTS} tries`,
        'wait a minute and run it again',
      );
    }
    if (status >= 500) {
      return new UnreachableError(
        'cluster',
        `the Kubernetes API at ${server} failed to ${what} (${status}${message ? `: ${message}` : ''})`,
        'the API server or its storage is in trouble; try: kubectl get --raw /readyz?verbose',
      );
    }
    if (isHtml(answer)) return this.notTheApi(what, answer);
    return new KubeRequestError(status, `the Kubernetes API at ${server} refused to ${what} (${status}${message ? `: ${message}` : ''})`);
  }

  private parse<T>(what: string, answer: KubeAnswer): T {
    if (isHtml(answer)) throw this.notTheApi(what, answer);
    let value: unknown;
    try {
      value = JSON.parse(answer.body.toString('utf8'));
    } catch {
      throw this.notTheApi(what, answer);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw this.notTheApi(what, answer);
    const list = (value as { items?: unknown }).items;
    if (list !== undefined && !Array.isArray(list)) throw this.notTheApi(what, answer);
    reviveTimes(value);
    return value as T;
  }

  private notTheApi(what: string, answer: KubeAnswer): UnreachableError {
    const body = isHtml(answer) ? 'an HTML page' : answer.body.length === 0 ? 'an empty body' : 'a body that is not Kubernetes JSON';
    return new UnreachableError(
      'cluster',
      `the server at ${this.transport.server} answered ${what} with ${body} (HTTP ${answer.status}), not the Kubernetes API`,
      'a proxy, login page or wrong URL may be in front of the cluster; check the server in the kubeconfig, then try: kubectl cluster-info',
    );
  }
}

/** A request the API server refused for a reason of its own (400, 404, 409, 422…), with its status. */
export class KubeRequestError extends Error {
  override readonly name = 'KubeRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function isHtml(answer: KubeAnswer): boolean {
  return /html/i.test(answer.contentType) || /^\s*<(!doctype|html)/i.test(answer.body.subarray(0, 64).toString('utf8'));
}

/** Why the Eviction API refused: its message and the disruption budget's cause. */
function refusalOf(answer: KubeAnswer): string {
  try {
    const status = JSON.parse(answer.body.toString('utf8')) as { message?: string; details?: { causes?: Array<{ message?: string }> } };
    const causes = (status.details?.causes ?? []).map((c) => c.message).filter(Boolean);
    return `${messageLine(status.message ?? 'a disruption budget refused it')}${causes.length ? ` (${causes.join('; ')})` : ''}`;
  } catch {
    return 'a disruption budget refused it (429)';
  }
}

/** The `message` of a Status body, when the body is one. */
function statusMessage(answer: KubeAnswer): string | undefined {
  if (isHtml(answer)) return 'an HTML page';
  try {
    const message = (JSON.parse(answer.body.toString('utf8')) as { message?: unknown }).message;
    return typeof message === 'string' ? messageLine(message) : undefined;
  } catch {
    return undefined;
  }
}
