import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { Authorizer } from './authorization.js';
import { coreVersions, group, groupList, resourceList } from './discovery.js';
import { evictPod } from './eviction.js';
import { chooseExecProtocol, execContainer, serveExec } from './exec.js';
import { type LogQuery, renderLogs, selectLogSources } from './logs.js';
import { applyPatch } from './patch.js';
import { PROTOBUF, decodeProtobufBody } from './protobuf.js';
import { proxyAnswer } from './proxy.js';
import { DEPLOYMENT, POD, type ResourceType, apiVersionOf, findResourceType } from './resources.js';
import type { PodRuntimes } from './runtime.js';
import { type Selector, parseFieldSelector, parseLabelSelector } from './selectors.js';
import {
  ApiError, type StatusBody, badRequest, invalid, methodNotAllowed, pathNotFound, unauthorized,
} from './status.js';
import type { KubeObject, ObjectStore, SubmittedObject } from './store.js';
import { type IncludeObject, toTable } from './table.js';
import type { Clock } from './time.js';
import { serveWatch } from './watch.js';

/** What the router serves from. */
export interface RouterContext {
  readonly store: ObjectStore;
  readonly runtimes: PodRuntimes;
  readonly clock: Clock;
  readonly authorizer: Authorizer;
  readonly websockets: WebSocketServer;
  /** When set, requests must carry it as a bearer token. */
  readonly token?: string;
  /** metrics.k8s.io answers 503, as the aggregated API does while metrics-server is down. */
  readonly metricsUnavailable?: boolean;
  /** Every eviction asked for, with the status it was answered. */
  readonly evictions: Array<{ pod: string; status: number; dryRun: boolean }>;
}

/** A request for a resource path, after URL parsing. */
interface ResourceRequest {
  readonly type: ResourceType;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
  /** For pod proxy: the port in `{name}:{port}`. */
  readonly port?: number;
  /** For pod proxy: the path after `/proxy`. */
  readonly proxyPath: string;
}

const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** A log answer is written in blocks of about this size (Go's io.Copy, behind `kubectl logs`, copies 32 KiB at a time). */
const LOG_BLOCK_CHARS = 32 * 1024;
const HEALTH = new Set(['/healthz', '/readyz', '/livez']);

const VERSION = {
  major: '1', minor: '32', gitVersion: 'v1.32.3', gitCommit: '32cc146f75aad04beaaa245a7157eb35063a9f99',
  gitTreeState: 'clean', buildDate: '2025-03-11T19:52:21Z', goVersion: 'go1.23.6', compiler: 'gc',
  platform: 'linux/amd64',
};

type Json = Record<string, unknown>;

function send(response: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  response.writeHead(code, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private',
    'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

function sendError(response: ServerResponse, error: ApiError): void {
  send(response, error.code, error.toStatus());
}

/** An HTTP error answer written on a raw socket, for upgrade requests refused before the WebSocket handshake. */
function refuseUpgrade(socket: Duplex, error: ApiError): void {
  const body = JSON.stringify(error.toStatus());
  socket.end(`HTTP/1.1 ${error.code} ${STATUS_CODES[error.code] ?? ''}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function segmentsOf(pathname: string): string[] {
  return pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
}

/** What follows the first `count` segments of `pathname`; `/` when nothing does. */
function pathAfter(pathname: string, count: number): string {
  let at = 0;
  for (let seen = 0; seen < count; seen += 1) {
    while (pathname[at] === '/') at += 1;
    const end = pathname.indexOf('/', at);
    at = end === -1 ? pathname.length : end;
  }
  return pathname.slice(at) || '/';
}

/** Parses `/api/v1/…` and `/apis/{group}/{version}/…` resource paths; undefined when the path names no resource. */
function parseResourcePath(pathname: string): ResourceRequest | undefined {
  const segments = segmentsOf(pathname);
  const [root, ...restAll] = segments;
  let groupName: string;
  let version: string;
  let rest: string[];
  if (root === 'api') {
    groupName = '';
    version = restAll[0] ?? '';
    rest = restAll.slice(1);
  } else if (root === 'apis') {
    groupName = restAll[0] ?? '';
    version = restAll[1] ?? '';
    rest = restAll.slice(2);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && findResourceType(groupName, version, rest[2] ?? '')) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource = '', rawName, subresource] = rest;
  const type = findResourceType(groupName, version, resource);
  if (type === undefined || rest.length === 0) return undefined;
  let name = rawName;
  let port: number | undefined;
  if (subresource === 'proxy' && rawName?.includes(':') === true) {
    const at = rawName.lastIndexOf(':');
    name = rawName.slice(0, at);
    port = Number(rawName.slice(at + 1));
  }
  // Everything after `{name}/proxy`, as sent (still percent-encoded, trailing slash kept).
  const proxyPath = subresource === 'proxy' ? pathAfter(pathname, segments.length - rest.length + 3) : '';
  if (rest.length > 3 && subresource !== 'proxy') return undefined;
  return { type, proxyPath,
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
    ...(subresource === undefined ? {} : { subresource }),
    ...(port === undefined ? {} : { port }) };
}

function verbOf(method: string, hasName: boolean, watch: boolean): string {
  switch (method) {
    case 'GET': return watch ? 'watch' : hasName ? 'get' : 'list';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return hasName ? 'delete' : 'deletecollection';
    default: return method.toLowerCase();
  }
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'RequestEntityTooLarge', 'request entity too large');
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  if ((request.headers['content-type'] ?? '').startsWith(PROTOBUF)) return decodeProtobufBody(raw);
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest(`the object provided is unrecognized (must be JSON): ${text.slice(0, 80)}`);
  }
}

function stripTypeMeta(object: KubeObject): Json {
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = object;
  return rest;
}

/** Where an object sorts in a list (`namespace/name`, `/name` for cluster-scoped objects), as the store orders it. */
function listKey(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function selectorsOf(query: URLSearchParams): Selector[] {
  return [parseLabelSelector(query.get('labelSelector')), parseFieldSelector(query.get('fieldSelector'))];
}

function includeObjectOf(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

function intParam(query: URLSearchParams, key: string): number | undefined {
  const raw = query.get(key);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw badRequest(`invalid value for ${key}: ${raw}`);
  return value;
}

function boolParam(query: URLSearchParams, key: string): boolean {
  const raw = query.get(key);
  return raw === 'true' || raw === '1';
}

function hasContainers(podSpec: Json | undefined): boolean {
  const containers = podSpec?.['containers'];
  return Array.isArray(containers) && containers.length > 0;
}

/** Field-level checks the apiserver makes on every write, with its 422 wording. */
function validate(type: ResourceType, object: SubmittedObject): void {
  const meta = object.metadata ?? {};
  const name = meta.name ?? '';
  const causes: { field: string; message: string }[] = [];
  if (name === '' && (meta.generateName ?? '') === '') {
    causes.push({ field: 'metadata.name', message: 'Required value: name or generateName is required' });
  } else if (name !== '' && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) {
    causes.push({ field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must ` +
      "consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric " +
      'character' });
  }
  const spec = object['spec'] as Json | undefined;
  if (type === DEPLOYMENT) {
    const replicas = spec?.['replicas'];
    if (replicas !== undefined && (!Number.isInteger(replicas) || (replicas as number) < 0)) {
      causes.push({ field: 'spec.replicas', message: `Invalid value: ${String(replicas)}: must be greater than or ` +
        'equal to 0' });
    }
    if (spec?.['selector'] === undefined) causes.push({ field: 'spec.selector', message: 'Required value' });
    // Without containers the deployment controller would have no pod to start.
    const template = spec?.['template'] as { spec?: Json } | undefined;
    if (!hasContainers(template?.spec)) {
      causes.push({ field: 'spec.template.spec.containers', message: 'Required value' });
    }
  }
  if (type === POD && !hasContainers(spec)) {
    causes.push({ field: 'spec.containers', message: 'Required value' });
  }
  if (causes.length > 0) throw invalid(type, name, causes);
}

/**
 * Routes apiserver requests: health and version, discovery, the resource verbs (with tables, selectors, paging,
 * watch, dry-run, patches), subresources (log, exec, proxy, scale, status) and SelfSubjectAccessReview.
 */
export class Router {
  constructor(private readonly context: RouterContext) {}

  /** Answers one HTTP request; every failure becomes a Status, and unrouted paths a 404 Status. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      await this.route(request, response);
    } catch (error) {
      if (response.headersSent) {
        response.destroy();
      } else if (error instanceof ApiError) {
        sendError(response, error);
      } else {
        sendError(response, new ApiError(500, 'InternalError',
          `Internal error occurred: ${(error as Error).message}`));
      }
    }
  }

  /** Answers an HTTP upgrade: exec over WebSocket, or a Status refusal on the raw socket. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // The HTTP server stops listening for errors on a socket it hands over; a client resetting it (while being
    // refused, say) would otherwise be an uncaught error that ends the process.
    socket.on('error', () => socket.destroy());
    try {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      this.authenticate(request, url.pathname);
      const target = parseResourcePath(url.pathname);
      if (target?.type !== POD || target.name === undefined || target.namespace === undefined ||
          target.subresource !== 'exec') {
        throw pathNotFound();
      }
      this.context.authorizer.check({ verb: 'create', group: '', resource: 'pods', subresource: 'exec',
        namespace: target.namespace, name: target.name });
      const pod = this.context.store.require(POD, target.namespace, target.name);
      execContainer(pod, url.searchParams.get('container'));
      if (request.headers.upgrade?.toLowerCase() !== 'websocket' ||
          chooseExecProtocol(request.headers['sec-websocket-protocol']) === undefined) {
        throw badRequest('unable to upgrade connection: only WebSocket with the v5.channel.k8s.io or ' +
          'v4.channel.k8s.io subprotocol is supported');
      }
      serveExec(this.context.websockets, request, socket, head,
        { pod, runtime: this.context.runtimes.get(target.namespace, target.name), query: url.searchParams });
    } catch (error) {
      refuseUpgrade(socket, error instanceof ApiError ? error
        : new ApiError(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`));
    }
  }

  private authenticate(request: IncomingMessage, pathname: string): void {
    const token = this.context.token;
    if (token === undefined) return;
    const header = request.headers.authorization;
    if (header === undefined && (HEALTH.has(pathname) || pathname === '/version')) return;
    if (header !== `Bearer ${token}`) throw unauthorized();
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const { pathname } = url;
    this.authenticate(request, pathname);
    if (HEALTH.has(pathname.replace(/\/+$/, '')) || /^\/(healthz|readyz|livez)\/[\w-]+$/.test(pathname)) {
      send(response, 200, 'ok', 'text/plain; charset=utf-8');
      return;
    }
    if (pathname === '/version') {
      send(response, 200, VERSION);
      return;
    }
    if (this.context.metricsUnavailable && pathname.startsWith('/apis/metrics.k8s.io/')) {
      throw new ApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
    }
    const discovery = this.discovery(pathname, request.headers.host ?? '127.0.0.1');
    if (discovery !== undefined) {
      // Always legacy discovery as plain JSON: clients asking for the aggregated form fall back to it.
      send(response, 200, discovery);
      return;
    }
    if (request.method === 'POST' && pathname === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
      send(response, 201, this.context.authorizer.review(await readBody(request) as SubmittedObject));
      return;
    }
    const target = parseResourcePath(pathname);
    if (target === undefined) throw pathNotFound();
    await this.resource(request, response, url.searchParams, target);
  }

  private discovery(pathname: string, host: string): Json | undefined {
    const segments = segmentsOf(pathname);
    if (segments[0] === 'api') {
      if (segments.length === 1) return coreVersions(host);
      if (segments.length === 2) return resourceList('', segments[1] ?? '');
    }
    if (segments[0] === 'apis') {
      if (segments.length === 1) return groupList();
      if (segments.length === 2) return group(segments[1] ?? '');
      if (segments.length === 3) return resourceList(segments[1] ?? '', segments[2] ?? '');
    }
    return undefined;
  }

  private async resource(request: IncomingMessage, response: ServerResponse, query: URLSearchParams,
    target: ResourceRequest): Promise<void> {
    const { type, namespace, name, subresource } = target;
    const method = request.method ?? 'GET';
    if (!type.namespaced && namespace !== undefined) throw pathNotFound();
    const watch = boolParam(query, 'watch');
    const verb = subresource === 'exec' ? 'create' : verbOf(method, name !== undefined, watch);
    if (subresource === undefined && !type.verbs.includes(verb)) throw methodNotAllowed();
    this.context.authorizer.check({ verb, group: type.group, resource: type.resource,
      ...(subresource === undefined ? {} : { subresource }),
      ...(namespace === undefined ? {} : { namespace }), ...(name === undefined ? {} : { name }) });
    const dryRun = query.getAll('dryRun').includes('All');
    const asTable = (request.headers.accept ?? '').includes('as=Table');
    const { store } = this.context;
    if (name === undefined) {
      if (method === 'GET') {
        this.list(response, query, target, asTable, watch);
        return;
      }
      // Like the apiserver, a namespaced type's all-namespaces path only lists and watches.
      if (type.namespaced && namespace === undefined) throw methodNotAllowed();
      if (method === 'DELETE') {
        this.deleteCollection(response, query, target, dryRun);
        return;
      }
      if (method !== 'POST') throw methodNotAllowed();
      const body = await readBody(request) as SubmittedObject;
      const bodyNamespace = body.metadata?.namespace;
      if (namespace !== undefined && bodyNamespace !== undefined && bodyNamespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      const submitted = { ...body, metadata: { ...body.metadata, ...(namespace === undefined ? {} : { namespace }) } };
      validate(type, submitted);
      send(response, 201, store.create(type, submitted, { dryRun }));
      return;
    }
    switch (subresource) {
      case undefined: case 'status': {
        if (method === 'GET') {
          const object = store.require(type, namespace, name);
          send(response, 200, asTable ? this.table(type, [object], query) : object);
        } else {
          send(response, 200, await this.write(request, target, dryRun));
        }
        return;
      }
      case 'scale': {
        if (type !== DEPLOYMENT) throw pathNotFound();
        send(response, 200, await this.scale(request, target, dryRun));
        return;
      }
      case 'log': {
        if (type !== POD || method !== 'GET') throw pathNotFound();
        this.logs(response, target, query);
        return;
      }
      case 'exec':
        if (type !== POD) throw pathNotFound();
        throw badRequest('Upgrade request required');
      case 'eviction': {
        if (type !== POD || method !== 'POST') throw pathNotFound();
        try {
          send(response, 201, evictPod(store, namespace ?? '', name, await readBody(request), dryRun));
          this.context.evictions.push({ pod: name, status: 201, dryRun });
        } catch (error) {
          this.context.evictions.push({ pod: name, status: error instanceof ApiError ? error.code : 500, dryRun });
          throw error;
        }
        return;
      }
      case 'proxy': {
        if (type !== POD) throw pathNotFound();
        const pod = store.require(POD, namespace, name);
        const answer = proxyAnswer(pod, this.context.runtimes.get(namespace ?? '', name), target.port,
          target.proxyPath, this.context.clock());
        send(response, answer.status, answer.body, answer.contentType);
        return;
      }
      default:
        throw pathNotFound();
    }
  }

  /** The objects of a collection request that its label and field selectors match. */
  private selected(query: URLSearchParams, target: ResourceRequest): KubeObject[] {
    const selectors = selectorsOf(query);
    return this.context.store.list(target.type, target.namespace).filter((o) => selectors.every((s) => s(o)));
  }

  /** `deletecollection`: deletes what the selectors match and answers with the list of what was deleted. */
  private deleteCollection(response: ServerResponse, query: URLSearchParams, target: ResourceRequest,
    dryRun: boolean): void {
    const { store } = this.context;
    const { type } = target;
    const deleted = this.selected(query, target)
      // A cascade from an earlier deletion (a Deployment taking its ReplicaSets) may have removed it already.
      .filter((o) => store.get(type, o.metadata.namespace, o.metadata.name) !== undefined)
      .map((o) => store.delete(type, o.metadata.namespace, o.metadata.name, { dryRun }));
    send(response, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type),
      metadata: { resourceVersion: store.resourceVersion }, items: deleted.map(stripTypeMeta) });
  }

  private list(response: ServerResponse, query: URLSearchParams, target: ResourceRequest, asTable: boolean,
    watch: boolean): void {
    const { store } = this.context;
    if (watch) {
      const selectors = selectorsOf(query);
      const timeoutSeconds = intParam(query, 'timeoutSeconds');
      serveWatch(response, store, {
        type: target.type, selectors, resourceVersion: query.get('resourceVersion'),
        render: (o) => (asTable ? this.table(target.type, [o], query) : o),
        ...(target.namespace === undefined ? {} : { namespace: target.namespace }),
        ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
      });
      return;
    }
    // A page continues after the key of the last object served, as the apiserver's does, so objects deleted or
    // created meanwhile neither shift the next page nor repeat an object.
    const token = query.get('continue') ?? '';
    const after = token === '' ? undefined : Buffer.from(token, 'base64url').toString();
    if (after !== undefined && !after.includes('/')) throw badRequest('continue key is not valid: unrecognized token');
    const remaining = after === undefined ? this.selected(query, target)
      : this.selected(query, target).filter((o) => listKey(o) > after);
    const limit = intParam(query, 'limit') ?? 0;
    const page = limit > 0 ? remaining.slice(0, limit) : remaining;
    const last = page.at(-1);
    const more = last !== undefined && page.length < remaining.length;
    const metadata: Json = { resourceVersion: store.resourceVersion,
      ...(more ? { continue: Buffer.from(listKey(last)).toString('base64url'),
        remainingItemCount: remaining.length - page.length } : {}) };
    send(response, 200, asTable
      ? toTable(target.type, page, this.context.clock(), includeObjectOf(query), metadata)
      : { kind: `${target.type.kind}List`, apiVersion: apiVersionOf(target.type), metadata,
          items: page.map(stripTypeMeta) });
  }

  private table(type: ResourceType, objects: KubeObject[], query: URLSearchParams): Json {
    return toTable(type, objects, this.context.clock(), includeObjectOf(query),
      { resourceVersion: this.context.store.resourceVersion });
  }

  /** PUT, PATCH or DELETE of one object (or of its status, which shares the object here). */
  private async write(request: IncomingMessage, target: ResourceRequest,
    dryRun: boolean): Promise<KubeObject | StatusBody> {
    const { store } = this.context;
    const { type, namespace, name = '' } = target;
    switch (request.method) {
      case 'PUT': {
        const body = await readBody(request) as SubmittedObject;
        if (body.metadata?.name !== name) {
          throw badRequest(`the name of the object (${body.metadata?.name ?? ''}) does not match the name on the ` +
            `URL (${name})`);
        }
        validate(type, body);
        return store.update(type, { ...body, metadata: { ...body.metadata, namespace } }, { dryRun });
      }
      case 'PATCH': {
        const current = store.require(type, namespace, name);
        const patched = applyPatch(request.headers['content-type'] ?? '', current, await readBody(request)) as
          SubmittedObject;
        validate(type, patched);
        return store.update(type, { ...patched, metadata: { ...patched.metadata, name, namespace } }, { dryRun });
      }
      case 'DELETE': {
        const deleted = store.delete(type, namespace, name, { dryRun });
        if (type === POD) return deleted;
        return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200,
          details: { name, group: type.group, kind: type.resource } };
      }
      default: throw methodNotAllowed();
    }
  }

  /** The autoscaling/v1 Scale view of a Deployment; writes to it set `spec.replicas`. */
  private async scale(request: IncomingMessage, target: ResourceRequest, dryRun: boolean): Promise<Json> {
    const { store } = this.context;
    const { namespace, name = '' } = target;
    let deployment = store.require(DEPLOYMENT, namespace, name);
    const view = (d: KubeObject): Json => ({
      kind: 'Scale', apiVersion: 'autoscaling/v1',
      metadata: { name: d.metadata.name, namespace: d.metadata.namespace, uid: d.metadata.uid,
        resourceVersion: d.metadata.resourceVersion, creationTimestamp: d.metadata.creationTimestamp },
      spec: { replicas: (d['spec'] as Json)['replicas'] },
      status: {
        replicas: (d['status'] as Json | undefined)?.['replicas'] ?? 0,
        selector: Object.entries(((d['spec'] as Json)['selector'] as { matchLabels?: Record<string, string> })
          .matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
      },
    });
    if (request.method === 'GET') return view(deployment);
    const body = await readBody(request);
    const scaled = (request.method === 'PATCH'
      ? applyPatch(request.headers['content-type'] ?? '', view(deployment), body)
      : request.method === 'PUT' ? body : undefined) as { spec?: { replicas?: unknown };
      metadata?: { resourceVersion?: string } } | undefined;
    if (scaled === undefined) throw methodNotAllowed();
    const spec = { ...(deployment['spec'] as Json), replicas: scaled.spec?.replicas };
    const submitted = { ...deployment, spec, metadata: { ...deployment.metadata,
      resourceVersion: scaled.metadata?.resourceVersion ?? deployment.metadata.resourceVersion } };
    validate(DEPLOYMENT, submitted);
    deployment = store.update(DEPLOYMENT, submitted, { dryRun });
    return view(dryRun ? deployment : store.require(DEPLOYMENT, namespace, name));
  }

  private logs(response: ServerResponse, target: ResourceRequest, query: URLSearchParams): void {
    const namespace = target.namespace ?? '';
    const name = target.name ?? '';
    const pod = this.context.store.require(POD, namespace, name);
    const tailLines = intParam(query, 'tailLines');
    const sinceSeconds = intParam(query, 'sinceSeconds');
    const limitBytes = intParam(query, 'limitBytes');
    const container = query.get('container');
    const sinceTime = query.get('sinceTime');
    const logQuery: LogQuery = {
      previous: boolParam(query, 'previous'), timestamps: boolParam(query, 'timestamps'),
      ...(container === null ? {} : { container }), ...(tailLines === undefined ? {} : { tailLines }),
      ...(sinceSeconds === undefined ? {} : { sinceSeconds }), ...(limitBytes === undefined ? {} : { limitBytes }),
      ...(sinceTime === null ? {} : { sinceTime }),
    };
    const sources = selectLogSources(pod, this.context.runtimes.get(namespace, name), logQuery);
    response.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
    // In blocks, as the kubelet and the API server copy a log through their buffers: a chunk per line
    // would have a client parse 500 chunks for a 500-line tail, where a real cluster sends it in two.
    let block = '';
    for (const line of renderLogs(sources, logQuery, this.context.clock())) {
      block += line;
      if (block.length < LOG_BLOCK_CHARS) continue;
      response.write(block);
      block = '';
    }
    response.end(block);
  }
}
