import { makeFinding, type Finding } from '../../core/findings.js';
import { defineCheck, type EvaluationEnv } from '../check.js';
import { readAppLogs, splitTimestamp, type LogCoverage } from '../kubernetes/error-logs.js';
import { AI_PROVIDER_FINDINGS as F } from './findings.js';

/** Kinds of AI provider trouble a log line can show. `billing` is not transient: waiting never clears it. */
export type AiErrorKind = 'rate_limit' | 'overloaded' | 'timeout' | 'billing';

/**
 * What each kind looks like in the SDKs' error lines: Anthropic's (`RateLimitError: 429 {"type":"error",
 * "error":{"type":"rate_limit_error",…}}`, `overloaded_error` with 529, `credit_balance_exhausted`) and
 * OpenAI's (`openai.RateLimitError: Error code: 429 - {… 'code': 'rate_limit_exceeded'}`,
 * `insufficient_quota`, `server_is_overloaded`), plus the runbook's own `grep "rate_limit"`. Billing
 * is tested first: an `insufficient_quota` error is also a 429.
 */
const KINDS: ReadonlyArray<[AiErrorKind, RegExp]> = [
  ['billing', /insufficient_quota|credit_balance_exhausted|billing_error|credit balance is too low/i],
  ['rate_limit', /rate_limit|rate limit|RateLimitError|Error code: 429\b|\b429 Too Many Requests/i],
  ['overloaded', /overloaded_error|server_is_overloaded|\boverloaded\b|Error code: (?:529|503)\b|\b529\b/i],
  ['timeout', /timeout_error|APITimeoutError|Request timed out|deadline exceeded|context deadline|ETIMEDOUT/i],
];
/**
 * Any of the kinds, tried on the whole line first: a line's message comes after its timestamp and a space, so
 * a kind that matches the message matches the line, and only the few lines that match pay for the timestamp.
 */
const ANY_KIND = new RegExp(KINDS.map(([, pattern]) => pattern.source).join('|'), 'i');

/** Words that name a provider in a line, beyond its configured name. */
const ALIASES: Record<string, RegExp> = {
  anthropic: /anthropic|claude/i,
  openai: /openai|\bgpt-|chatgpt/i,
};

/** Longest sample line kept in the evidence. */
const SAMPLE_CHARS = 240;

/** Lines of one kind, in total and per provider named by the line. */
export interface AiErrorCount {
  kind: AiErrorKind;
  count: number;
  byProvider: Record<string, number>;
  /** The latest line of this kind. */
  sample: string;
  firstAt: string | null;
}

/** Evidence of the provider-logs check. */
export interface ProviderLogsEvidence {
  tailLines: number;
  pods: number;
  linesRead: number;
  counts: AiErrorCount[];
  /** Which pods were read by the deadline (absent in older fixtures). */
  coverage?: LogCoverage;
}

/**
 * AI provider errors in the app's logs (the runbook's `kubectl logs … | grep "rate_limit"`): the last
 * `aiProvider.logTailLines` lines of each app pod's app container, sorted into rate limits, overloads,
 * timeouts and billing errors, counted per provider where the line names one (by name, or by the
 * SDK's error format). Transient errors above `thresholds.aiErrorLines` per 500 lines are SEV3;
 * billing errors are reported apart, as SEV3 that waiting will not clear.
 */
export const providerLogsCheck = defineCheck<ProviderLogsEvidence>({
  id: 'ai-provider-logs',
  title: 'AI provider errors in recent logs',
  target: 'cluster',
  logTail: (config) => config.aiProvider.logTailLines,
  async collect(ctx) {
    const tailLines = ctx.config.aiProvider.logTailLines;
    const providers = ctx.config.aiProvider.providers.map((p) => p.name);
    const { reads, coverage } = await readAppLogs(ctx, tailLines, (r) => ({ pod: r.pod, scan: scanAiLog(r.text, providers) }));
    return { tailLines, pods: new Set(reads.map((r) => r.pod)).size, coverage, ...mergeAiScans(reads.map((r) => r.scan)) };
  },
  evaluate: evaluateProviderLogs,
});

/** AI provider error lines of logs, counted. */
interface AiScan {
  linesRead: number;
  counts: AiErrorCount[];
}

/** Counts AI provider error lines in logs read with timestamps. Pure, so tests feed it SDK lines. */
export function scanAiErrors(texts: string[], providers: string[]): AiScan {
  return mergeAiScans(texts.map((text) => scanAiLog(text, providers)));
}

/** Counts AI provider error lines in one log read with timestamps. */
function scanAiLog(text: string, providers: string[]): AiScan {
  let linesRead = 0;
  const counts = new Map<AiErrorKind, AiErrorCount>();
  for (const raw of text.split('\n')) {
    if (!raw) continue;
    linesRead += 1;
    if (!ANY_KIND.test(raw)) continue;
    const { at, line } = splitTimestamp(raw);
    const kind = KINDS.find(([, pattern]) => pattern.test(line))?.[0];
    if (!kind) continue;
    const provider = providerOf(line, providers);
    addCount(counts, { kind, count: 1, byProvider: provider ? { [provider]: 1 } : {}, sample: line.slice(0, SAMPLE_CHARS), firstAt: at });
  }
  return { linesRead, counts: [...counts.values()] };
}

/** Scans of several logs as one, in order: the counts add up, the latest line is the sample, the first time stays. */
function mergeAiScans(scans: AiScan[]): AiScan {
  const counts = new Map<AiErrorKind, AiErrorCount>();
  for (const scan of scans) for (const count of scan.counts) addCount(counts, count);
  return {
    linesRead: scans.reduce((n, scan) => n + scan.linesRead, 0),
    counts: KINDS.map(([kind]) => counts.get(kind)).filter((c): c is AiErrorCount => c !== undefined),
  };
}

/** Adds lines of one kind to its count: the numbers add up, the later sample replaces, the earlier time stays. */
function addCount(counts: Map<AiErrorKind, AiErrorCount>, { kind, count, byProvider, sample, firstAt }: AiErrorCount): void {
  const entry = counts.get(kind) ?? { kind, count: 0, byProvider: {}, sample: '', firstAt: null };
  entry.count += count;
  entry.sample = sample;
  if (firstAt && (!entry.firstAt || firstAt < entry.firstAt)) entry.firstAt = firstAt;
  for (const [provider, n] of Object.entries(byProvider)) entry.byProvider[provider] = (entry.byProvider[provider] ?? 0) + n;
  counts.set(kind, entry);
}

/** The provider a line names, by name or alias, else by its SDK's error format; null when it names none. */
function providerOf(line: string, providers: string[]): string | null {
  const named = providers.find((p) => (ALIASES[p] ?? new RegExp(`\\b${p}\\b`, 'i')).test(line));
  if (named) return named;
  // Anthropic's SDKs quote the API's JSON error body; OpenAI's Python SDK prints "Error code: N - {'error': …}".
  if (/"type"\s*:\s*"error"/.test(line) && providers.includes('anthropic')) return 'anthropic';
  if (/Error code: \d{3} - \{'error'/.test(line) && providers.includes('openai')) return 'openai';
  return null;
}

export function evaluateProviderLogs(evidence: ProviderLogsEvidence, env: EvaluationEnv): Finding[] {
  const findings: Finding[] = [];
  const transient = evidence.counts.filter((c) => c.kind !== 'billing');
  const total = transient.reduce((n, c) => n + c.count, 0);
  // The threshold is per 500 lines (the runbook's tail), so it scales with what was read.
  const limit = env.config.thresholds.aiErrorLines * Math.max(1, evidence.linesRead / 500);
  if (total > limit) {
    const latest = transient.reduce((a, b) => (b.count > a.count ? b : a));
    findings.push(
      makeFinding(F.errorLines, {
        check: 'ai-provider-logs',
        params: {
          count: total,
          read: evidence.linesRead,
          kinds: transient.map((c) => `${c.count} ${c.kind.replace('_', ' ')}`).join(', '),
          providers: perProvider(transient),
          sample: latest.sample,
        },
        evidence: { linesRead: evidence.linesRead, pods: evidence.pods, limit, counts: transient, coverage: evidence.coverage ?? null },
        next: ['aegis-ir diagnose ai-provider'],
        since: transient.map((c) => c.firstAt).filter((t): t is string => Boolean(t)).sort()[0] ?? null,
      }),
    );
  }
  const billing = evidence.counts.find((c) => c.kind === 'billing');
  if (billing) {
    findings.push(
      makeFinding(F.billingLines, {
        check: 'ai-provider-logs',
        params: { count: billing.count, providers: perProvider([billing]), sample: billing.sample },
        evidence: { linesRead: evidence.linesRead, pods: evidence.pods, billing },
        since: billing.firstAt,
      }),
    );
  }
  return findings;
}

/** " (anthropic 12, openai 1)" or empty when no line named a provider. */
function perProvider(counts: AiErrorCount[]): string {
  const totals = new Map<string, number>();
  for (const c of counts) for (const [p, n] of Object.entries(c.byProvider)) totals.set(p, (totals.get(p) ?? 0) + n);
  return totals.size ? ` (${[...totals].map(([p, n]) => `${p} ${n}`).join(', ')})` : '';
}

/** The kinds the evidence counts, for the remediation decision. */
export function kindsSeen(findings: Finding[]): Set<AiErrorKind> {
  const seen = new Set<AiErrorKind>();
  for (const f of findings) {
    if (f.code !== F.errorLines.code) continue;
    for (const c of (f.evidence.counts as AiErrorCount[] | undefined) ?? []) seen.add(c.kind);
  }
  return seen;
}
