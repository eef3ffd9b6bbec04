/**
 * The resources the simulator serves. This one table drives routing, discovery documents, error messages and the
 * object store, so adding a resource is one entry here.
 */

/** One served resource type (a group/version/resource with its kind). */
export interface ResourceType {
  /** API group, `''` for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural, lower-case name used in URLs (`pods`). */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  readonly verbs: readonly string[];
  /** Subresources announced in discovery; the router serves them explicitly. */
  readonly subresources?: readonly SubresourceType[];
}

/** A subresource as announced in discovery (`pods/log`, `deployments/scale`). */
export interface SubresourceType {
  readonly name: string;
  readonly kind: string;
  readonly verbs: readonly string[];
  /** For subresources whose kind lives in another group, like `deployments/scale` → autoscaling/v1 Scale. */
  readonly group?: string;
  readonly version?: string;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;
const READ_VERBS = ['get', 'list'] as const;

/** Every resource type the simulator serves, core group first (kubectl prefers earlier groups for short names). */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  {
    group: '', version: 'v1', resource: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false,
    shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  },
  {
    group: '', version: 'v1', resource: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'],
    categories: ['all'], verbs: ALL_VERBS,
    subresources: [
      { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'proxy', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
      { name: 'status', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
    ],
  },
  {
    group: '', version: 'v1', resource: 'nodes', singular: 'node', kind: 'Node', namespaced: false,
    shortNames: ['no'], verbs: ['get', 'list', 'watch'],
  },
  {
    group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', namespaced: true,
    shortNames: ['ev'], verbs: ALL_VERBS,
  },
  {
    group: '', version: 'v1', resource: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true,
    shortNames: ['cm'], verbs: ALL_VERBS,
  },
  {
    group: 'apps', version: 'v1', resource: 'deployments', singular: 'deployment', kind: 'Deployment',
    namespaced: true, shortNames: ['deploy'], categories: ['all'], verbs: ALL_VERBS,
    subresources: [
      { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
      { name: 'status', kind: 'Deployment', verbs: ['get', 'patch', 'update'] },
    ],
  },
  {
    group: 'apps', version: 'v1', resource: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet',
    namespaced: true, shortNames: ['rs'], categories: ['all'], verbs: ALL_VERBS,
  },
  {
    group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler',
    kind: 'HorizontalPodAutoscaler', namespaced: true, shortNames: ['hpa'], categories: ['all'], verbs: ALL_VERBS,
  },
  {
    group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', singular: 'poddisruptionbudget',
    kind: 'PodDisruptionBudget', namespaced: true, shortNames: ['pdb'], verbs: ALL_VERBS,
  },
  {
    group: 'coordination.k8s.io', version: 'v1', resource: 'leases', singular: 'lease', kind: 'Lease',
    namespaced: true, verbs: ALL_VERBS,
  },
  {
    group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods', singular: '', kind: 'PodMetrics',
    namespaced: true, verbs: READ_VERBS,
  },
  {
    group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', singular: '',
    kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'],
  },
];

/** `pods`, `deployments.apps`: how the apiserver names a resource in messages and RBAC. */
export function qualifiedName(type: Pick<ResourceType, 'group' | 'resource'>): string {
  return type.group === '' ? type.resource : `${type.resource}.${type.group}`;
}

/** `v1`, `apps/v1`. */
export function apiVersionOf(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

/** The served type for a group/version/resource, if any. */
export function findResourceType(group: string, version: string, resource: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.resource === resource);
}

/** The served type for a group and resource (any version), for code that names resources without a version. */
export function resourceType(group: string, resource: string): ResourceType {
  const type = RESOURCE_TYPES.find((t) => t.group === group && t.resource === resource);
  if (type === undefined) throw new Error(`no served resource ${resource} in group "${group}"`);
  return type;
}

/** The resource types the rest of the simulator refers to by name. */
export const POD = resourceType('', 'pods');
export const EVENT = resourceType('', 'events');
export const NODE = resourceType('', 'nodes');
export const CONFIG_MAP = resourceType('', 'configmaps');
export const NAMESPACE = resourceType('', 'namespaces');
export const DEPLOYMENT = resourceType('apps', 'deployments');
export const REPLICA_SET = resourceType('apps', 'replicasets');
export const HPA = resourceType('autoscaling', 'horizontalpodautoscalers');
export const LEASE = resourceType('coordination.k8s.io', 'leases');
export const PDB = resourceType('policy', 'poddisruptionbudgets');
export const POD_METRICS = resourceType('metrics.k8s.io', 'pods');
