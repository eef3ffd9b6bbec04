import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Report } from '../../src/checks/verdict.js';
import { junitReport } from '../../src/render/junit.js';
import { runCaptured } from '../helpers/cli.js';

interface JUnitCase {
  '@_name': string;
  '@_time': string;
  failure?: Array<{ '@_type': string; '@_message': string }>;
  error?: Array<{ '@_message': string }>;
  skipped?: Array<{ '@_message': string }>;
}

/** Parses JUnit XML with a real XML parser, after checking it is well-formed. */
function parseJUnit(xml: string) {
  const valid = XMLValidator.validate(xml);
  expect(valid).toBe(true);
  const parser = new XMLParser({ ignoreAttributes: false, isArray: (name) => ['testcase', 'failure', 'error', 'skipped', 'property'].includes(name) });
  const doc = parser.parse(xml) as { testsuites: { '@_tests': string; '@_failures': string; testsuite: { '@_tests': string; '@_failures': string; '@_skipped': string; testcase: JUnitCase[] } } };
  return doc.testsuites;
}

describe('-o junit', () => {
  it('is one testcase per check, a failure per finding at or above --fail-on, skipped with its reason', async () => {
    const run = await runCaptured(['drill', 'high-error-rate', '-o', 'junit']);
    expect(run.code).toBe(0);
    const suites = parseJUnit(run.stdout);
    const cases = suites.testsuite.testcase;
    expect(cases.map((c) => c['@_name'])).toEqual(
      expect.arrayContaining(['pod-health', 'resource-usage', 'recent-rollouts', 'error-logs', 'health-exec', 'db-connections', 'error-rate', 'latency']),
    );
    const byName = Object.fromEntries(cases.map((c) => [c['@_name'], c]));
    expect(byName['error-rate']?.failure?.map((f) => f['@_type'])).toEqual(['AEG-3002']);
    expect(byName['db-connections']?.skipped?.[0]?.['@_message']).toMatch(/^no database configured/);
    expect(byName['pod-health']?.failure).toBeUndefined();
    // The runbook as the command that prints it, as in the text.
    expect(run.stdout).toMatch(/runbook: aegis-ir runbook [a-z0-9-]+\n/);
    expect(run.stdout).not.toContain('runbook: runbooks/');
    const failures = cases.reduce((n, c) => n + (c.failure?.length ?? 0), 0);
    expect(Number(suites.testsuite['@_failures'])).toBe(failures);
    expect(Number(suites['@_tests'])).toBe(cases.length);

    // A higher bar leaves only the SEV1/SEV2 findings as failures.
    const gate = parseJUnit((await runCaptured(['drill', 'high-error-rate', '-o', 'junit', '--fail-on', 'sev2'])).stdout);
    const types = gate.testsuite.testcase.flatMap((c) => (c.failure ?? []).map((f) => f['@_type']));
    expect(types.sort()).toEqual(['AEG-1021', 'AEG-3002']);
  });

  it('stays well-formed whatever text the inspected systems put in a finding, and reports a check that errored', () => {
    const report: Report = {
      command: 'triage',
      severity: 'SEV3',
      severityReason: 'AEG-1030 <&> "quoted"',
      responseTime: '2h',
      escalation: [],
      unknown: ['cluster unreachable'],
      assessedNothing: false,
      findings: [
        { code: 'AEG-1030', check: 'error-logs', level: 'warn', severity: 'SEV3', summary: 'line with \u0007bell, ]]> and \ud800 <b>', resource: null, evidence: { line: '\u001b[31mred' }, runbook: 'runbooks/incident-response.md#x', next: [] },
      ],
      checks: [
        { id: 'error-logs', title: 'logs', target: 'cluster', status: 'findings', durationMs: 5, error: null, reason: null, unreachable: false, hint: null, findings: [] },
        { id: 'pod-health', title: 'pods', target: 'cluster', status: 'errored', durationMs: 7, error: 'connect ECONNREFUSED & "more"', reason: null, unreachable: true, hint: null, findings: [] },
      ],
    };
    const suites = parseJUnit(junitReport(report, 'SEV4'));
    const byName = Object.fromEntries(suites.testsuite.testcase.map((c) => [c['@_name'], c]));
    expect(byName['pod-health']?.error?.[0]?.['@_message']).toBe('connect ECONNREFUSED & "more"');
    expect(byName['error-logs']?.failure?.[0]?.['@_message']).toContain(']]> and');
  });
});

describe('-o markdown, -o yaml and GitHub annotations', () => {
  it('prints a Markdown job summary with the verdict, findings, checks and next commands', async () => {
    const run = await runCaptured(['drill', 'oom', '-o', 'markdown']);
    expect(run.stdout).toMatch(/^## aegis-ir triage: SEV3 — Minor degradation\n/);
    expect(run.stdout).toContain('| ▲ | AEG-1004 | SEV3 |');
    expect(run.stdout).toContain('| db-connections | skipped |');
    expect(run.stdout).toMatch(/### Next\n\n```sh\naegis-ir diagnose memory\n/);
  });

  it('prints the same document as JSON in YAML', async () => {
    const run = await runCaptured(['drill', 'oom', '-o', 'yaml']);
    const document = parseYaml(run.stdout) as { schemaVersion: number; command: string; triage: { severity: string; findings: { code: string }[] } };
    expect(document).toMatchObject({ schemaVersion: 1, command: 'drill', triage: { severity: 'SEV3' } });
    expect(document.triage.findings.map((f) => f.code)).toContain('AEG-1004');
  });

  it('annotates the findings at or above --fail-on for GitHub Actions, on stderr, and only there', async () => {
    const env = { HOME: '/nonexistent', GITHUB_ACTIONS: 'true' };
    const run = await runCaptured(['drill', 'high-error-rate', '-o', 'json', '--fail-on', 'SEV2'], { env });
    const lines = run.stderr.split('\n').filter(Boolean);
    expect(lines).toContain('::error title=AEG-3002 SEV2::error rate 61.2%25 of requests over the last 5m (objective < 0.1%25) — aegis-ir runbook incident-classification');
    expect(lines.every((l) => l.startsWith('::error ') || l.startsWith('::warning '))).toBe(true);
    expect(lines.some((l) => l.includes('title=AEG-1030'))).toBe(false);
    expect(JSON.parse(run.stdout)).toMatchObject({ command: 'drill' });
    const local = await runCaptured(['drill', 'high-error-rate', '-o', 'json', '--fail-on', 'SEV2']);
    expect(local.stderr).toBe('');
  });

  it('refuses junit and markdown before doing anything for a command without a report', async () => {
    const run = await runCaptured(['fix', 'rollback', '--yes', '-o', 'junit']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('-o junit is for triage, diagnose and drill reports; this command prints text, json, yaml');
  });
});
