import { Option } from 'commander';

/**
 * What `diagnose --help` and the completions show of a `diagnose <section>` (one "Common Issue" of the
 * runbook), apart from its checks, so neither loads them.
 */
export interface DiagnoseSectionInfo {
  /** The runbook issue it implements, for --help. */
  summary: string;
  /** Flags of this section alone (`diagnose memory --pod`). */
  options?: () => Option[];
}

/** `diagnose memory`'s own flags. */
function heapProfileOptions(): Option[] {
  return [
    new Option('--pod <name>', 'memory: take the heap profile of this pod (default: the one using the most memory)'),
    new Option('--save-profile <file>', 'memory: keep the heap profile as served, for go tool pprof'),
    new Option('--compare <duration>', 'memory: take a second profile after this long and rank what grew (e.g. 30s)'),
  ];
}

const SECTIONS = {
  'api-errors': {
    summary:
      'High API Error Rate: error rate and p99 per endpoint, ERROR/FATAL log shapes, CPU/memory vs limits, OOMKills, ' +
      'database reachability, component health, rollouts against the rise; ends with the remediation to run',
  },
  'db-connections': {
    summary: 'Database Connection Failures: connections by state/user/app vs the usable limit, idle ages, locks, PgBouncer',
  },
  'ai-provider': {
    summary:
      "AI Provider Timeouts: each provider's status page, rate-limit/overload/timeout and billing lines in the logs, " +
      "ai_provider health, the app's AI settings; ends with the remediation to run",
  },
  memory: {
    summary:
      'High Memory Usage: usage vs request and limit per container, OOMKills and restarts, the memory trend and when it ' +
      'reaches the limit, the heap profile summarised as go tool pprof -top; ends with the remediation and the lead',
    options: heapProfileOptions,
  },
} satisfies Record<string, DiagnoseSectionInfo>;

/** The name of a `diagnose` section. */
export type DiagnoseSectionName = keyof typeof SECTIONS;

/** Sections of `diagnose`, by name, in the order --help lists them. */
export const DIAGNOSE_SECTION_INFO: Readonly<Record<DiagnoseSectionName, DiagnoseSectionInfo>> = SECTIONS;

/** The section called `name`, or undefined when there is none. */
export function diagnoseSectionNamed(name: string): DiagnoseSectionName | undefined {
  return Object.hasOwn(DIAGNOSE_SECTION_INFO, name) ? (name as DiagnoseSectionName) : undefined;
}
