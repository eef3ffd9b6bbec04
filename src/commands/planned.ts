import { UsageError } from '../core/errors.js';

/**
 * Commands of the product contract still being built, each with the runbook section that covers it meanwhile.
 * Only a name that no registered command answers is looked up here, so an entry stops mattering the moment its
 * command lands (and can then be deleted).
 */
const PLANNED: Record<string, string> = {
  postmortem: 'post-incident',
  monitoring: 'key-metrics',
  incident: 'communication',
  'diagnose ai-provider': 'issue-ai-provider-timeouts',
  'diagnose memory': 'issue-high-memory-usage',
};

/** The usage error for `path` ("postmortem", "diagnose memory") when it is a planned command; else undefined. */
export function plannedCommand(path: string): UsageError | undefined {
  const section = PLANNED[path];
  if (!section) return undefined;
  return new UsageError(
    `${path} is planned but not built yet; until it is, the runbook says what to do`,
    `aegis-ir runbook ${section}`,
  );
}
