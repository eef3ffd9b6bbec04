import type { Remediation } from './remediation.js';

/**
 * Every remediation `fix` offers, in the order `fix --list` shows them, each module loaded only when a run
 * needs it: `fix db-connections` loads db-connections, not the nine others. Append new ones here.
 */
const LOADERS = {
  'db-connections': async () => (await import('./db-connections.js')).dbConnectionsRemediation,
  'db-pool-size': async () => (await import('./db-pool-size.js')).dbPoolSizeRemediation,
  rollback: async () => (await import('./rollback.js')).rollbackRemediation,
  scale: async () => (await import('./scale.js')).scaleRemediation,
  'memory-limit': async () => (await import('./memory-limit.js')).memoryLimitRemediation,
  restart: async () => (await import('./restart.js')).restartRemediation,
  'batch-size': async () => (await import('./batch-size.js')).batchSizeRemediation,
  'enforce-limits': async () => (await import('./enforce-limits.js')).enforceLimitsRemediation,
  'ai-provider': async () => (await import('./ai-provider.js')).aiProviderRemediation,
  revert: async () => (await import('./revert.js')).revertRemediation,
} satisfies Record<string, () => Promise<Remediation>>;

export type RemediationId = keyof typeof LOADERS;

/** Every remediation's id, in `fix --list` order. */
export const REMEDIATION_IDS = Object.keys(LOADERS) as readonly RemediationId[];

/** Whether `word` names a remediation. */
export function isRemediationId(word: string): word is RemediationId {
  return Object.hasOwn(LOADERS, word);
}

/** The remediation `id` names. */
export function loadRemediation(id: RemediationId): Promise<Remediation> {
  return LOADERS[id]();
}

/** Every remediation, in `fix --list` order. */
export function loadRemediations(): Promise<Remediation[]> {
  return Promise.all(REMEDIATION_IDS.map((id) => LOADERS[id]()));
}
