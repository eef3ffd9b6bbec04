import { RESOURCE_TYPES, type ResourceType } from './resources.js';

/*
 * Legacy (unaggregated) discovery documents. kubectl asks for aggregated discovery first and falls back to these when
 * the answer is plain application/json, so serving only these keeps one source of truth: the resource table.
 */

type Json = Record<string, unknown>;

function groups(): Map<string, string[]> {
  const byGroup = new Map<string, string[]>();
  for (const t of RESOURCE_TYPES) {
    if (t.group === '') continue;
    const versions = byGroup.get(t.group) ?? [];
    if (!versions.includes(t.version)) versions.push(t.version);
    byGroup.set(t.group, versions);
  }
  return byGroup;
}

function groupDocument(name: string, versions: string[]): Json {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

/** `GET /api`. */
export function coreVersions(serverAddress: string): Json {
  return { kind: 'APIVersions', versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** `GET /apis`. */
export function groupList(): Json {
  return { kind: 'APIGroupList', apiVersion: 'v1',
    groups: [...groups()].map(([name, versions]) => groupDocument(name, versions)) };
}

/** `GET /apis/{group}`, or undefined for an unserved group. */
export function group(name: string): Json | undefined {
  const versions = groups().get(name);
  return versions === undefined ? undefined : { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(name, versions) };
}

function apiResources(t: ResourceType): Json[] {
  const main: Json = {
    name: t.resource, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: t.verbs,
    ...(t.shortNames === undefined ? {} : { shortNames: t.shortNames }),
    ...(t.categories === undefined ? {} : { categories: t.categories }),
  };
  const subresources = (t.subresources ?? []).map((s) => ({
    name: `${t.resource}/${s.name}`, singularName: '', namespaced: t.namespaced, kind: s.kind, verbs: s.verbs,
    ...(s.group === undefined ? {} : { group: s.group, version: s.version }),
  }));
  return [main, ...subresources];
}

/** `GET /api/v1` or `GET /apis/{group}/{version}`, or undefined for an unserved group version. */
export function resourceList(groupName: string, version: string): Json | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group === groupName && t.version === version);
  if (types.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1',
    groupVersion: groupName === '' ? version : `${groupName}/${version}`, resources: types.flatMap(apiResources) };
}
