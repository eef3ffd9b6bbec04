import { dbConnectionsRemediation } from './db-connections.js';
import { dbPoolSizeRemediation } from './db-pool-size.js';
import type { Remediation } from './remediation.js';

/** Every remediation `fix` offers, in the order `fix --list` shows them. Append new ones here. */
export const REMEDIATIONS: readonly Remediation[] = [dbConnectionsRemediation, dbPoolSizeRemediation];
