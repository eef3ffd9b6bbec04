import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../src/checks/catalogue.js';
import { parseRunbook } from '../../src/runbook/markdown.js';

// The runbook text the Markdown was written from, kept verbatim so this check does not depend on files outside the repo.
const SEED = readFileSync(new URL('./fixtures/incident-response.seed.txt', import.meta.url), 'utf8');
const MARKDOWN = readFileSync(new URL('../../runbooks/incident-response.md', import.meta.url), 'utf8');

/** The seed's headings, in order: the title, then its sections and subsections. */
const SEED_HEADINGS = [
  'Runbook: Incident Response',
  'Overview',
  'Incident Classification',
  'Detection',
  'Alert Sources',
  'Key Metrics to Monitor',
  'Triage Procedure',
  'Step 1: Initial Assessment (5 min)',
  'Step 2: Impact Assessment',
  'Step 3: Classification',
  'Common Issues and Remediation',
  'Issue: High API Error Rate',
  'Issue: Database Connection Failures',
  'Issue: AI Provider Timeouts',
  'Issue: High Memory Usage',
  'Communication',
  'Internal Communication',
  'External Communication (if customer-facing)',
  'Post-Incident',
  'Immediate (within 24h)',
  'Post-Mortem (within 5 days)',
  'Escalation Matrix',
  'Contact Information',
];

/** Anchors that findings, SPEC and other commands rely on; renaming one breaks their links. */
const STABLE_ANCHORS = [
  'overview',
  'incident-classification',
  'detection',
  'key-metrics',
  'triage-procedure',
  'triage-step-1-initial-assessment',
  'triage-step-2-impact-assessment',
  'triage-step-3-classification',
  'common-issues',
  'issue-high-api-error-rate',
  'issue-database-connection-failures',
  'issue-ai-provider-timeouts',
  'issue-high-memory-usage',
  'communication',
  'post-incident',
  'escalation-matrix',
  'contact-information',
];

describe('runbooks/incident-response.md', () => {
  const runbook = parseRunbook(MARKDOWN);
  const ids = runbook.sections.map((s) => s.id);

  it.each(CATALOGUE.map((kind) => [kind.code, kind.anchor]))('has the anchor finding %s links to (#%s)', (code, anchor) => {
    expect(ids, `${code} links to #${anchor}; use one of the runbook's anchors or add a section`).toContain(anchor);
  });

  it('keeps every stable anchor', () => {
    expect(ids).toEqual(expect.arrayContaining(STABLE_ANCHORS));
  });

  it("has the seed's headings, in the seed's order, each written as in the seed", () => {
    const seedLines = SEED.split('\n').map((line) => line.trim());
    for (const heading of SEED_HEADINGS) expect(seedLines).toContain(heading);
    expect([runbook.title, ...runbook.sections.map((s) => s.title)]).toEqual(SEED_HEADINGS);
  });

  it('keeps every line of the seed: its tables, commands, PromQL, lists and prose', () => {
    // Markdown adds emphasis and code spans; the seed's own words must all still be there.
    const text = MARKDOWN.replaceAll('**', '').replaceAll('`', '');
    const seedLines = SEED.split('\n')
      // The plain-text seed runs some list items into the line before; compare them one item at a time.
      .flatMap((line) => line.split(/\s(?=- [A-Z])/))
      .map((line) => line.trim())
      .filter(Boolean);
    expect(seedLines.filter((line) => !text.includes(line))).toEqual([]);
  });

  it('puts the PromQL and shell commands in fenced code blocks', () => {
    const fenced = [...MARKDOWN.matchAll(/```\w*\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
    for (const line of [
      'sum(rate(aegis_http_requests_total{status=~"5.."}[5m]))',
      'aegis_health_status{component="ai_provider"}',
      'kubectl get pods -n aegis',
      'psql $DATABASE_URL -c "SHOW max_connections;"',
      'go tool pprof heap.prof',
    ]) {
      expect(fenced).toContain(line);
    }
  });

  it('says which aegis-ir command implements each common issue, and which are planned', () => {
    const commands = (id: string) => runbook.sections.find((s) => s.id === id)?.commands;
    expect(commands('issue-high-api-error-rate')).toContain('diagnose api-errors');
    expect(commands('issue-database-connection-failures')).toEqual(
      expect.arrayContaining(['diagnose db-connections', 'fix db-connections --dry-run']),
    );
    expect(commands('issue-ai-provider-timeouts')).toContain('diagnose ai-provider');
    expect(commands('issue-high-memory-usage')).toContain('diagnose memory');
    expect(MARKDOWN).toMatch(/`aegis-ir diagnose ai-provider` — /);
    expect(MARKDOWN).not.toMatch(/`aegis-ir diagnose ai-provider` \(planned\)/);
    expect(MARKDOWN).toMatch(/`aegis-ir diagnose memory` — /);
    expect(commands('issue-high-memory-usage')).toEqual(expect.arrayContaining(['fix restart', 'fix batch-size --to N', 'fix enforce-limits']));
  });
});
