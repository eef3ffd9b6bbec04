import type { V1Lease } from '@kubernetes/client-node';
import type { KubePort } from '../kube/port.js';
import type { LockAttempt } from './remediation.js';

/**
 * The per-target lock of Kubernetes remediations: a `coordination.k8s.io` Lease named after the
 * remediation and its target. Creating it is the atomic test-and-set (409 means held); a lease left
 * behind by a crashed run is taken over once it has outlived `leaseDurationSeconds`.
 */
export async function leaseLock(kube: KubePort, name: string, holder: string, ttlSeconds: number, now: () => Date): Promise<LockAttempt> {
  const at = now();
  const lease: V1Lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'aegis-ir' } },
    spec: { holderIdentity: holder, leaseDurationSeconds: ttlSeconds, acquireTime: at, renewTime: at },
  };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    if (await kube.createLease(lease)) return { acquired: true, release: () => kube.deleteLease(name) };
    const existing = await kube.readLease(name);
    if (!existing) continue;
    const since = existing.spec?.renewTime ?? existing.spec?.acquireTime;
    const ttl = existing.spec?.leaseDurationSeconds ?? ttlSeconds;
    const expired = since !== undefined && new Date(since).getTime() + ttl * 1000 < at.getTime();
    if (!expired) {
      const when = since ? ` since ${new Date(since).toISOString()}` : '';
      return { acquired: false, holder: `${existing.spec?.holderIdentity ?? 'unknown'} (lease ${kube.namespace}/${name}${when})` };
    }
    await kube.deleteLease(name, existing.metadata?.resourceVersion);
  }
  return { acquired: false, holder: `another operator (lease ${kube.namespace}/${name} changed while it was being taken)` };
}
