import type { V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { KubePort } from '../../src/kube/port.js';
import { leaseLock } from '../../src/remediations/lease-lock.js';

/** Leases in memory with the API server's create (409 when taken) and delete (resourceVersion precondition). */
function leaseStore() {
  const leases = new Map<string, V1Lease>();
  let version = 0;
  const kube = {
    namespace: 'aegis',
    readLease: async (name: string) => structuredClone(leases.get(name) ?? null),
    createLease: async (lease: V1Lease) => {
      const name = lease.metadata?.name ?? '';
      if (leases.has(name)) return false;
      version += 1;
      leases.set(name, { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(version) } });
      return true;
    },
    deleteLease: async (name: string, resourceVersion?: string) => {
      if (resourceVersion && leases.get(name)?.metadata?.resourceVersion !== resourceVersion) throw new Error('409 conflict');
      leases.delete(name);
    },
  } as unknown as KubePort;
  return { kube, leases };
}

describe('leaseLock', () => {
  it('names the holder while the lease is live, and releases it', async () => {
    const { kube, leases } = leaseStore();
    const t0 = new Date('2026-11-26T12:00:00Z');
    const alice = await leaseLock(kube, 'l', 'alice@laptop', 600, () => t0);
    const bob = await leaseLock(kube, 'l', 'bob@desk', 600, () => new Date(t0.getTime() + 60_000));
    expect(bob).toMatchObject({ acquired: false, holder: expect.stringContaining('alice@laptop') });
    if (alice.acquired) await alice.release();
    expect(leases.has('l')).toBe(false);
  });

  it('a run whose lease expired and was taken over does not delete the new holder’s lease', async () => {
    const { kube, leases } = leaseStore();
    const t0 = new Date('2026-11-26T12:00:00Z');
    const alice = await leaseLock(kube, 'l', 'alice@laptop', 600, () => t0);
    const bob = await leaseLock(kube, 'l', 'bob@desk', 600, () => new Date(t0.getTime() + 601_000));
    expect(bob.acquired).toBe(true);
    if (!alice.acquired) throw new Error('alice should hold the lease');
    await expect(alice.release()).rejects.toThrow('taken over by bob@desk');
    expect(leases.get('l')?.spec?.holderIdentity).toBe('bob@desk');
  });
});
