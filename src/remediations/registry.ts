import { aiProviderRemediation } from './ai-provider.js';
import { dbConnectionsRemediation } from './db-connections.js';
import { dbPoolSizeRemediation } from './db-pool-size.js';
import { memoryLimitRemediation } from './memory-limit.js';
import type { Remediation } from './remediation.js';
import { rollbackRemediation } from './rollback.js';
import { batchSizeRemediation } from './batch-size.js';
import { enforceLimitsRemediation } from './enforce-limits.js';
import { restartRemediation } from './restart.js';
import { revertRemediation } from './revert.js';
import { scaleRemediation } from './scale.js';

/** Every remediation `fix` offers, in the order `fix --list` shows them. Append new ones here. */
export const REMEDIATIONS: readonly Remediation[] = [dbConnectionsRemediation, dbPoolSizeRemediation, rollbackRemediation, scaleRemediation, memoryLimitRemediation, restartRemediation, batchSizeRemediation, enforceLimitsRemediation, aiProviderRemediation, revertRemediation];
