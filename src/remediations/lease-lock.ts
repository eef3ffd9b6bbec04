import type { V1Lease } from '@kubernetes/client-node';
import type { Context } from '../core/context.js';
import { operatorName } from '../core/operator.js';
import type { AccessCheck, KubePort } from '../kube/port.js';
import type { LockAttempt } from './remediation.js';

/** How long a lease protects a run that died without releasing it. */
const LOCK_TTL_SECONDS = 600;

/** The rights taking and releasing the lease needs; every Kubernetes remediation's preflight asks for them. */
export const LEASE_RIGHTS: readonly AccessCheck[] = [
  { verb: 'create', resource: 'leases', group: 'coordination.k8s.io' },
  { verb: 'update', resource: 'leases', group: 'coordination.k8s.io' },
  { verb: 'delete', resource: 'leases', group: 'coordination.k8s.io' },
];

/**
 * Locks an object for this operator with a lease named after the object alone, not the remediation:
 * two remediations of the same deployment (a rollback and a scale) exclude each other too.
 */
export function lockTarget(ctx: Context, kube: KubePort, kind: 'deployment' | 'configmap', object: string): Promise<LockAttempt> {
  // A Lease's name is a DNS label here: at most 63 characters, ending in a letter or digit.
  const name = `aegis-ir-fix-${kind}-${object}`.slice(0, 63).replace(/[^a-z0-9]+$/, '');
  return leaseLock(kube, name, operatorName(ctx.env), LOCK_TTL_SECONDS, () => ctx.clock.now());
}

/** SelfSubjectAccessReviews for `needs`; the denied ones, worded for people. Empty when all are allowed. */
export async function deniedRights(kube: KubePort, needs: readonly AccessCheck[]): Promise<string[]> {
  const allowed = await Promise.all(needs.map((need) => kube.canI(need)));
  return needs
    .filter((_, i) => !allowed[i])
    .map((n) => `not allowed to ${n.verb} ${n.resource}${n.subresource ? `/${n.subresource}` : ''}${n.group ? `.${n.group}` : ''}${n.name ? `/${n.name}` : ''} in namespace ${kube.namespace}`);
}

/**
 * The per-target lock of Kubernetes remediations: a `coordination.k8s.io` Lease named after the
 * target. Creating it is the atomic test-and-set (409 means held); a lease left
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
    if (await kube.createLease(lease)) {
      return {
        acquired: true,
        release: () => releaseLease(kube, name, holder, at),
        renew: () => renewLease(kube, name, holder, at, now),
        renewEveryMs: (ttlSeconds * 1000) / 3,
      };
    }
    const existing = await kube.readLease(name);
    if (!existing) continue;
    const since = existing.spec?.renewTime ?? existing.spec?.acquireTime;
    const ttl = existing.spec?.leaseDurationSeconds ?? ttlSeconds;
    const expired = since !== undefined && new Date(since).getTime() + ttl * 1000 < at.getTime();
    if (!expired) {
      const when = since ? ` since ${new Date(since).toISOString()}` : '';
      return { acquired: false, holder: `${existing.spec?.holderIdentity ?? 'unknown'} (lease ${kube.namespace}/${name}${when})` };
    }
    // Another operator may take it over first: then the precondition fails and the loop reads who did.
    await kube.deleteLease(name, existing.metadata?.resourceVersion);
  }
  return { acquired: false, holder: `another operator (lease ${kube.namespace}/${name} changed while it was being taken)` };
}

/**
 * Moves the lease's renewTime to now while it is still the one this run created; returns who holds it
 * otherwise. The replace carries the resourceVersion read, so a takeover in between is seen, not undone.
 */
async function renewLease(kube: KubePort, name: string, holder: string, acquired: Date, now: () => Date): Promise<string | null> {
  const current = await kube.readLease(name);
  if (!current || !isOurs(current, holder, acquired)) return current?.spec?.holderIdentity ?? 'nobody (the lease is gone)';
  const renewed = await kube.replaceLease({ ...current, spec: { ...current.spec, renewTime: now() } });
  return renewed ? null : 'another operator (the lease changed while it was renewed)';
}

function isOurs(lease: V1Lease, holder: string, acquired: Date): boolean {
  const acquireTime = lease.spec?.acquireTime;
  return lease.spec?.holderIdentity === holder && acquireTime !== undefined && new Date(acquireTime).getTime() === acquired.getTime();
}

/**
 * Deletes the lease only while it is still the one this run created: once it has expired (a long
 * prompt or rollout) another operator may have taken it over, and deleting theirs would let a third in.
 */
async function releaseLease(kube: KubePort, name: string, holder: string, acquired: Date): Promise<void> {
  const current = await kube.readLease(name);
  if (!current) return;
  if (!isOurs(current, holder, acquired)) {
    throw new Error(`it expired and was taken over by ${current.spec?.holderIdentity ?? 'another operator'}; their lease is left alone`);
  }
  if (!(await kube.deleteLease(name, current.metadata?.resourceVersion))) {
    throw new Error('it changed while it was being released; it is left alone');
  }
}
