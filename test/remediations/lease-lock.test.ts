import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { connectKube } from '../../src/kube/client.js';
import { startKubeSimulator } from '../../src/sandbox/kube-simulator/index.js';
import type { KubePort } from '../../src/kube/port.js';
import { leaseLock, type RunIdentity } from '../../src/remediations/lease-lock.js';
import { operatorName } from '../../src/core/operator.js';
import { runCaptured } from '../helpers/cli.js';

const signal = new AbortController().signal;

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
      if (resourceVersion && leases.get(name)?.metadata?.resourceVersion !== resourceVersion) return false;
      leases.delete(name);
      return true;
    },
  } as unknown as KubePort;
  return { kube, leases };
}

describe('leaseLock', () => {
  it('names the holder while the lease is live, and releases it', async () => {
    const { kube, leases } = leaseStore();
    const t0 = new Date('2026-11-26T12:00:00Z');
    const alice = await leaseLock(kube, 'l', 'alice@laptop', 600, () => t0, signal);
    const bob = await leaseLock(kube, 'l', 'bob@desk', 600, () => new Date(t0.getTime() + 60_000), signal);
    expect(bob).toMatchObject({ acquired: false, holder: expect.stringContaining('alice@laptop') });
    if (alice.acquired) await alice.release();
    expect(leases.has('l')).toBe(false);
  });

  it('a run whose lease expired and was taken over does not delete the new holder’s lease', async () => {
    const { kube, leases } = leaseStore();
    const t0 = new Date('2026-11-26T12:00:00Z');
    const alice = await leaseLock(kube, 'l', 'alice@laptop', 600, () => t0, signal);
    const bob = await leaseLock(kube, 'l', 'bob@desk', 600, () => new Date(t0.getTime() + 601_000), signal);
    expect(bob.acquired).toBe(true);
    if (!alice.acquired) throw new Error('alice should hold the lease');
    await expect(alice.release()).rejects.toThrow('taken over by bob@desk');
    expect(leases.get('l')?.spec?.holderIdentity).toBe('bob@desk');
  });
});

describe('leaseLock against the Kubernetes simulator', () => {
  it('renews its own lease before applying, and names who took over an expired one', async () => {
    const sim = await startKubeSimulator({ scenario: 'healthy', tls: true });
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'aegis-lease-')), 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig);
    try {
      const kube = await connectKube({ kubeconfig, namespace: 'aegis' }, {});
      const t0 = new Date('2026-11-26T12:00:00Z');
      let now = t0;
      const alice = await leaseLock(kube, 'renewed', 'alice@laptop', 600, () => now, signal);
      if (!alice.acquired || !alice.renew) throw new Error('alice should hold a renewable lease');
      now = new Date(t0.getTime() + 90_000);
      expect(await alice.renew()).toBeNull();
      const renewed = await kube.readLease('renewed', signal);
      expect(new Date(renewed?.spec?.renewTime ?? 0).toISOString()).toBe(now.toISOString());

      const carol = await leaseLock(kube, 'expired', 'carol@laptop', 1, () => t0, signal);
      const dave = await leaseLock(kube, 'expired', 'dave@desk', 600, () => new Date(t0.getTime() + 5_000), signal);
      expect(dave.acquired).toBe(true);
      if (!carol.acquired || !carol.renew) throw new Error('carol should hold a renewable lease');
      expect(await carol.renew()).toBe('dave@desk');
      expect((await kube.readLease('expired', signal))?.spec?.holderIdentity).toBe('dave@desk');

      // Two operators taking over the same expired lease at once: one gets it, the other is told who did.
      await leaseLock(kube, 'raced', 'erin@laptop', 1, () => t0, signal);
      const later = () => new Date(t0.getTime() + 5_000);
      const attempts = await Promise.all(['frank@a', 'grace@b', 'heidi@c'].map((who) => leaseLock(kube, 'raced', who, 600, later, signal)));
      expect(attempts.filter((a) => a.acquired)).toHaveLength(1);
      const winner = (await kube.readLease('raced', signal))?.spec?.holderIdentity;
      for (const lost of attempts.filter((a) => !a.acquired)) expect(lost).toMatchObject({ holder: expect.stringMatching(/@|another operator/) });
      expect(['frank@a', 'grace@b', 'heidi@c']).toContain(winner);
    } finally {
      await sim.close();
    }
  });
});

/** A run on `host` whose process `pid` is alive or not, as the lease's next taker sees it. */
const runOf = (pid: number, host: string, alive: boolean): RunIdentity => ({ pid, host, alive: () => alive });

describe('stale locks', () => {
  it('a lock left by the same operator\'s dead run on this host names it, its expiry, and can be taken', async () => {
    const { kube, leases } = leaseStore();
    const t0 = new Date('2026-11-26T12:00:00Z');
    await leaseLock(kube, 'l', 'alice@laptop', 120, () => t0, signal, runOf(4242, 'laptop', true));
    const again = await leaseLock(kube, 'l', 'alice@laptop', 120, () => new Date(t0.getTime() + 30_000), signal, runOf(5151, 'laptop', false));
    expect(again).toMatchObject({
      acquired: false,
      holder: 'alice@laptop (lease aegis/l, pid 4242 on laptop, since 2026-11-26T12:00:00.000Z, expires 2026-11-26T12:02:00.000Z)',
      stale: { reason: "it is your own run's, and pid 4242 is no longer running on laptop" },
    });
    if (again.acquired || !again.stale) throw new Error('the dead run\'s lock should be breakable');
    expect((await again.stale.take()).acquired).toBe(true);
    expect(leases.get('l')?.metadata?.annotations?.['aegis-ir.io/pid']).toBe('5151');
  });

  it('another operator\'s lock, or one whose run is alive or on another host, is never breakable', async () => {
    const { kube } = leaseStore();
    const t0 = new Date('2026-11-26T12:00:00Z');
    await leaseLock(kube, 'bob', 'bob@desk', 120, () => t0, signal, runOf(1, 'desk', true));
    await leaseLock(kube, 'alive', 'alice@laptop', 120, () => t0, signal, runOf(2, 'laptop', true));
    await leaseLock(kube, 'elsewhere', 'alice@laptop', 120, () => t0, signal, runOf(3, 'desktop', true));
    const me = runOf(9, 'laptop', true);
    const dead = { ...me, alive: (pid: number) => pid !== 2 && pid !== 1 && pid !== 3 };
    for (const [name, run] of [['bob', { ...me, alive: () => false }], ['alive', me], ['elsewhere', dead]] as const) {
      const attempt = await leaseLock(kube, name, 'alice@laptop', 120, () => new Date(t0.getTime() + 1_000), signal, run);
      expect(attempt).toMatchObject({ acquired: false });
      expect(attempt).not.toHaveProperty('stale');
    }
  });

  it('fix refuses naming the expiry, and --break-lock takes the lock of its own killed run', async () => {
    const sim = await startKubeSimulator({ scenario: 'oom' });
    const dir = mkdtempSync(join(tmpdir(), 'aegis-lease-'));
    const kubeconfig = join(dir, 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig);
    try {
      const kube = await connectKube({ kubeconfig, namespace: 'aegis' }, {});
      // What a `fix scale` killed with SIGKILL leaves: its Lease, naming a pid that no longer runs here.
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      const me = operatorName({});
      await leaseLock(kube, 'aegis-ir-fix-deployment-aegis-api', me, 120, () => new Date(), signal, { pid: dead, host: hostname(), alive: () => true });
      const fix = (...argv: string[]) =>
        runCaptured(['fix', 'scale', '--by', '1', '--kubeconfig', kubeconfig, ...argv], { env: { HOME: dir, AEGIS_IR_AUDIT_LOG: join(dir, 'audit.jsonl') } });
      const refused = await fix('--yes');
      expect(refused.code).toBe(5);
      expect(refused.stderr).toContain(`pid ${dead} on ${hostname()}`);
      expect(refused.stderr).toMatch(/expires \d{4}-\d\d-\d\dT/);
      expect(refused.stderr).toContain('--break-lock');
      const recovered = await fix('--yes', '--break-lock');
      expect(recovered.code).toBe(0);
      expect(readFileSync(join(dir, 'audit.jsonl'), 'utf8')).toContain('"event":"lock-broken"');
      expect(await kube.readLease('aegis-ir-fix-deployment-aegis-api', signal)).toBeNull();
    } finally {
      await sim.close();
    }
  });
});
