import type { FindingKind } from '../core/findings.js';
import { AI_PROVIDER_FINDINGS } from './ai-provider/findings.js';
import { API_ERROR_FINDINGS } from './api-errors/findings.js';
import { DATABASE_FINDINGS } from './database/findings.js';
import { KUBERNETES_FINDINGS } from './kubernetes/findings.js';
import { MEMORY_FINDINGS } from './memory/findings.js';
import { PROMETHEUS_FINDINGS } from './prometheus/findings.js';

/**
 * The one catalogue of finding codes: every area's entries, keyed by code. A test checks that codes
 * are unique and every anchor exists in the runbook.
 */
export const CATALOGUE: ReadonlyArray<FindingKind<never>> = [...Object.values(KUBERNETES_FINDINGS), ...Object.values(DATABASE_FINDINGS), ...Object.values(PROMETHEUS_FINDINGS), ...Object.values(API_ERROR_FINDINGS), ...Object.values(AI_PROVIDER_FINDINGS), ...Object.values(MEMORY_FINDINGS)] as ReadonlyArray<
  FindingKind<never>
>;
