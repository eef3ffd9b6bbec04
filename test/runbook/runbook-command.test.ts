import { describe, expect, it } from 'vitest';
import { runCaptured } from '../helpers/cli.js';

const run = (...argv: string[]) => runCaptured(argv);

describe('aegis-ir runbook', () => {
  it('lists the sections by anchor and title without an argument', async () => {
    const { code, stdout, stderr } = await run('runbook');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Runbook: Incident Response\n/);
    expect(stdout).toMatch(/^ {2}triage-procedure +Triage Procedure$/m);
    expect(stdout).toMatch(/^ {4}triage-step-1-initial-assessment +Step 1: Initial Assessment \(5 min\)$/m);
    expect(stdout).toMatch(/^ {2}escalation-matrix +Escalation Matrix$/m);
    expect(stderr).toBe('Show a section with: aegis-ir runbook <section>, or all of it with: aegis-ir runbook --all\n');
  });

  it('prints a section with its subsections, rendered as plain text when not a terminal', async () => {
    const { code, stdout } = await run('runbook', 'triage');
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/\u001b\[|<a id=|```/);
    expect(stdout).toMatch(/^Triage Procedure\n/);
    expect(stdout).toContain('Step 1: Initial Assessment (5 min)');
    expect(stdout).toContain('    kubectl rollout history deployment/aegis-api -n aegis');
    expect(stdout).toContain('Step 3: Classification');
    expect(stdout).not.toContain('Common Issues and Remediation');
  });

  it.each([
    ['db', 'Issue: Database Connection Failures'],
    ['memory', 'Issue: High Memory Usage'],
    ['escalation', 'Escalation Matrix'],
    ['issue-ai-provider-timeouts', 'Issue: AI Provider Timeouts'],
  ])('finds "%s"', async (query, title) => {
    const { code, stdout } = await run('runbook', query);
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toBe(title);
  });

  it('--all prints the whole runbook, its prose reflowed to 80 columns when not a terminal', async () => {
    const { code, stdout } = await run('runbook', '--all');
    expect(code).toBe(0);
    for (const heading of ['Incident Classification', 'Triage Procedure', 'Escalation Matrix', 'Post-Incident']) expect(stdout).toContain(`\n${heading}\n`);
    expect(stdout).toContain('\nThis runbook covers incident detection, triage, mitigation, and resolution for\nCloud Aegis production issues.\n');
    // Only code and tables, which cannot be broken and still be pasted or read, may be wider.
    const long = stdout.split('\n').filter((line) => line.length > 80 && !/^ {4}|^ {2}\S.* {2}/.test(line));
    expect(long).toEqual([]);
  });

  it('aligns the escalation matrix in columns', async () => {
    const { stdout } = await run('runbook', 'escalation-matrix');
    expect(stdout).toContain(
      [
        '  Severity  Primary            Escalation (30 min)  Escalation (1h)',
        '  ────────  ─────────────────  ───────────────────  ───────────────────',
        '  SEV1      On-Call            Engineering Manager  VP Engineering',
      ].join('\n'),
    );
  });

  it('prints one JSON document for a section, and for the contents', async () => {
    const section = await run('runbook', 'db', '-o', 'json');
    expect(section.code).toBe(0);
    expect(section.stderr).toBe('');
    const document = JSON.parse(section.stdout) as {
      schemaVersion: number;
      command: string;
      section: { id: string; title: string; markdown: string };
    };
    expect(document).toMatchObject({
      schemaVersion: 1,
      command: 'runbook',
      section: { id: 'issue-database-connection-failures', title: 'Issue: Database Connection Failures' },
    });
    expect(document.section.markdown).toContain('SELECT pg_terminate_backend(pid)');

    const contents = await run('runbook', '--output', 'json');
    expect(contents.stderr).toBe('');
    const toc = JSON.parse(contents.stdout) as { sections: Array<{ id: string; title: string; level: number }> };
    expect(toc.sections[0]).toEqual({ id: 'overview', title: 'Overview', level: 2 });
  });

  it('exits 2 on an unknown section, naming it and listing the sections', async () => {
    const { code, stdout, stderr } = await run('runbook', 'kubernetes');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^aegis-ir: unknown runbook section "kubernetes"; sections: overview, incident-classification, /);
    expect(stderr).toContain('  try: aegis-ir runbook\n');
  });

  it('exits 2 on an ambiguous section, listing the candidates', async () => {
    const { code, stderr } = await run('runbook', 'issue');
    expect(code).toBe(2);
    expect(stderr).toContain(
      'runbook section "issue" is ambiguous: it could be issue-high-api-error-rate, issue-database-connection-failures, ',
    );
  });

  it('shows examples in --help', async () => {
    const { code, stdout } = await run('runbook', '--help');
    expect(code).toBe(0);
    expect(stdout).toContain('Examples:\n  $ aegis-ir runbook ');
    expect(stdout).toContain('$ aegis-ir runbook db');
  });
});
