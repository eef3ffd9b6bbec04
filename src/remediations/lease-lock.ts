import { hostname } from 'node:os';
import type { V1Lease } from '@kubernetes/client-node';
import { cleanupSignal } from '../core/cancellation.js';
import type { Context } from '../core/context.js';
import { operatorName, processAlive } from '../core/operator.js';
import type { AccessCheck, KubePort } from '../kube/port.js';
import type { LockAttempt } from './remediation.js';

/**
 * How long a lease protects a run that died without releasing it. A live run renews it every third of
 * that, so a killed run blocks others for two minutes at most (its own operator can `--break-lock` at once).
 */
const LOCK_TTL_SECONDS = 120;

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
  return leaseLock(kube, name, operatorName(ctx.env), LOCK_TTL_SECONDS, () => ctx.clock.now(), ctx.signal);
}

/** SelfSubjectAccessReviews for `needs`; the denied ones, worded for people. Empty when all are allowed. */
export async function deniedRights(kube: KubePort, signal: AbortSignal, needs: readonly AccessCheck[]): Promise<string[]> {
  const allowed = await Promise.all(needs.map((need) => kube.canI(need, signal)));
  return needs
    .filter((_, i) => !allowed[i])
    .map((n) => `not allowed to ${n.verb} ${n.resource}${n.subresource ? `/${n.subresource}` : ''}${n.group ? `.${n.group}` : ''}${n.name ? `/${n.name}` : ''} in namespace ${kube.namespace}`);
}

/**
 * The per-target lock of Kubernetes remediations: a `coordination.k8s.io` Lease named after the
 * target. Creating it is the atomic test-and-set (409 means held); a lease left
 * behind by a crashed run is taken over once it has outlived `leaseDurationSeconds`.
 */
export async function leaseLock(
  kube: KubePort,
  name: string,
  holder: string,
  ttlSeconds: number,
  now: () => Date,
  signal: AbortSignal,
  run: RunIdentity = thisRun(),
): Promise<LockAttempt> {
  const at = now();
  const lease: V1Lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      labels: { 'app.kubernetes.io/managed-by': 'aegis-ir' },
      annotations: { [PID_ANNOTATION]: String(run.pid), [HOST_ANNOTATION]: run.host },
    },
    spec: { holderIdentity: holder, leaseDurationSeconds: ttlSeconds, acquireTime: at, renewTime: at },
  };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    if (await kube.createLease(lease, signal)) {
      return {
        acquired: true,
        release: () => releaseLease(kube, name, holder, at, cleanupSignal()),
        renew: () => renewLease(kube, name, holder, at, now, signal),
        renewEveryMs: (ttlSeconds * 1000) / 3,
      };
    }
    const existing = await kube.readLease(name, signal);
    if (!existing) continue;
    const since = existing.spec?.renewTime ?? existing.spec?.acquireTime;
    const ttl = existing.spec?.leaseDurationSeconds ?? ttlSeconds;
    const expires = since === undefined ? undefined : new Date(new Date(since).getTime() + ttl * 1000);
    if (!expires || expires.getTime() >= at.getTime()) {
      return held(kube, name, existing, holder, run, expires, signal, () => leaseLock(kube, name, holder, ttlSeconds, now, signal, run));
    }
    // Another operator may take it over first: then the precondition fails and the loop reads who did.
    await kube.deleteLease(name, existing.metadata?.resourceVersion, signal);
  }
  return { acquired: false, holder: `another operator (lease ${kube.namespace}/${name} changed while it was being taken)` };
}

/** Where a run lives, recorded on its Lease so that a later run can tell a dead one from a live one. */
export interface RunIdentity {
  pid: number;
  host: string;
  /** Whether a process with this pid runs on this host. */
  alive(pid: number): boolean;
}

const PID_ANNOTATION = 'aegis-ir.io/pid';
const HOST_ANNOTATION = 'aegis-ir.io/host';

function thisRun(): RunIdentity {
  return {
    pid: process.pid,
    host: hostname(),
    alive: processAlive,
  };
}

/**
 * A lease that is still valid: who holds it, since when, until when; and, when it is this operator's own
 * run on this host whose process is gone (killed, its terminal closed), the way to take it at once.
 * Another operator's lease, or one whose run may still be alive elsewhere, is never breakable.
 */
function held(
  kube: KubePort,
  name: string,
  lease: V1Lease,
  holder: string,
  run: RunIdentity,
  expires: Date | undefined,
  signal: AbortSignal,
  retry: () => Promise<LockAttempt>,
): LockAttempt {
  const since = lease.spec?.renewTime ?? lease.spec?.acquireTime;
  const pid = Number(lease.metadata?.annotations?.[PID_ANNOTATION]);
  const host = lease.metadata?.annotations?.[HOST_ANNOTATION];
  const who = lease.spec?.holderIdentity ?? 'unknown';
  const where = Number.isInteger(pid) && host ? `, pid ${pid} on ${host}` : '';
  const when = `${since ? `, since ${new Date(since).toISOString()}` : ''}${expires ? `, expires ${expires.toISOString()}` : ''}`;
  const description = `${who} (lease ${kube.namespace}/${name}${where}${when})`;
  const dead = who === holder && host === run.host && Number.isInteger(pid) && pid !== run.pid && !run.alive(pid);
  if (!dead) return { acquired: false, holder: description };
  return {
    acquired: false,
    holder: description,
    stale: {
      reason: `it is your own run's, and pid ${pid} is no longer running on ${host}`,
      take: async () => {
        if (!(await kube.deleteLease(name, lease.metadata?.resourceVersion, signal))) {
          return { acquired: false, holder: `another operator (lease ${kube.namespace}/${name} changed while it was being broken)` };
        }
        return retry();
      },
    },
  };
}

/**
 * Moves the lease's renewTime to now while it is still the one this run created; returns who holds it
 * otherwise. The replace carries the resourceVersion read, so a takeover in between is seen, not undone.
 */
async function renewLease(kube: KubePort, name: string, holder: string, acquired: Date, now: () => Date, signal: AbortSignal): Promise<string | null> {
  const current = await kube.readLease(name, signal);
  if (!current || !isOurs(current, holder, acquired)) return current?.spec?.holderIdentity ?? 'nobody (the lease is gone)';
  const renewed = await kube.replaceLease({ ...current, spec: { ...current.spec, renewTime: now() } }, signal);
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
async function releaseLease(kube: KubePort, name: string, holder: string, acquired: Date, signal: AbortSignal): Promise<void> {
  const current = await kube.readLease(name, signal);
  if (!current) return;
  if (!isOurs(current, holder, acquired)) {
    throw new Error(`it expired and was taken over by ${current.spec?.holderIdentity ?? 'another operator'}; their lease is left alone`);
  }
  if (!(await kube.deleteLease(name, current.metadata?.resourceVersion, signal))) {
    throw new Error('it changed while it was being released; it is left alone');
  }
}
