import type { V1ConfigMap } from '@kubernetes/client-node';
import { UsageError } from '../core/errors.js';
import type { KubePort } from '../kube/port.js';
import { utcDay, type Incident } from './record.js';
import { applyChange, candidateIds, checkedId, contended, parseRecord, sequenceOf, serialize, WRITE_ATTEMPTS, type IncidentStore } from './store.js';

/** Labels every incident ConfigMap carries; the selector lists them. */
export const INCIDENT_LABELS = {
  'app.kubernetes.io/managed-by': 'aegis-ir',
  'app.kubernetes.io/component': 'incident',
} as const;
const SELECTOR = Object.entries(INCIDENT_LABELS)
  .map(([k, v]) => `${k}=${v}`)
  .join(',');
/** The data key holding the record. */
const KEY = 'incident.json';

/**
 * `incident.store: kubernetes`: one ConfigMap per incident (`inc-20261201-01`) in the namespace, so
 * every operator of the rotation reads and writes the same record. A number is claimed by creating
 * its ConfigMap, which the API server refuses (409) when it exists; every change is a replace with
 * the resourceVersion it was read at, re-read and re-applied when someone else wrote in between.
 */
export class KubeIncidentStore implements IncidentStore {
  readonly where: string;

  constructor(
    private readonly kube: KubePort,
    /** Bounds every request of the store (the run's signal: Ctrl-C, `--timeout`). */
    private readonly signal: AbortSignal,
  ) {
    this.where = `configmaps in namespace ${kube.namespace}`;
  }

  async create(openedAt: Date, build: (id: string) => Incident): Promise<Incident> {
    // Start above the day's highest number seen; the create is what makes the claim safe.
    const day = utcDay(openedAt);
    const taken = (await this.list()).filter((i) => i.id.startsWith(`INC-${day}-`)).map((i) => sequenceOf(i.id));
    for (const id of candidateIds(openedAt, Math.max(0, ...taken) + 1)) {
      const incident = build(id);
      if (await this.kube.createConfigMap(this.configMap(incident), this.signal)) return incident;
    }
    throw new Error('unreachable: candidateIds ends by throwing');
  }

  async get(id: string): Promise<Incident | null> {
    const configMap = await this.kube.readConfigMap(nameOf(id), this.signal);
    return configMap ? this.recordOf(configMap) : null;
  }

  async list(): Promise<Incident[]> {
    const records = (await this.kube.listConfigMaps(SELECTOR, this.signal)).map((c) => this.recordOf(c));
    return records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async update(id: string, change: (incident: Incident) => Incident | null): Promise<Incident> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt += 1) {
      const configMap = await this.kube.readConfigMap(nameOf(id), this.signal);
      if (!configMap) throw new UsageError(`no incident ${id} in ${this.where}`, 'aegis-ir incident list');
      const current = this.recordOf(configMap);
      const next = applyChange(current, change);
      if (!next) return current;
      const replaced = this.configMap(next);
      replaced.metadata = { ...replaced.metadata, resourceVersion: configMap.metadata?.resourceVersion };
      if (await this.kube.replaceConfigMap(replaced, this.signal)) return next;
    }
    throw contended(id, this.where);
  }

  private configMap(incident: Incident): V1ConfigMap {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: nameOf(incident.id), namespace: this.kube.namespace, labels: { ...INCIDENT_LABELS } },
      data: { [KEY]: serialize(incident) },
    };
  }

  private recordOf(configMap: V1ConfigMap): Incident {
    const where = `configmap/${configMap.metadata?.name ?? '?'} in namespace ${this.kube.namespace}`;
    return parseRecord(configMap.data?.[KEY] ?? '', where);
  }
}

/** ConfigMap names are DNS-1123: `INC-20261201-01` is stored as `inc-20261201-01`. */
function nameOf(id: string): string {
  return checkedId(id).toLowerCase();
}
