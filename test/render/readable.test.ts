import { describe, expect, it } from 'vitest';
import { evidenceText, humanise } from '../../src/render/evidence.js';
import { runCaptured } from '../helpers/cli.js';

describe('quantities for people', () => {
  it.each([
    ['errorRatio', 0.612, '61.2%'],
    ['memoryOfLimit', 0.9570312, '95.7%'],
    ['memoryLimit', 536870912, '512Mi'],
    ['memory', 513802240, '490Mi'],
    ['usage', 513802240, '490Mi'],
    ['limit', 536870912, '512Mi'],
    ['limit', 15, '15'],
    ['saturation', 0.919, '91.9%'],
    ['heapBytes', 3 * 1024 ** 3, '3Gi'],
    ['durationMs', 1500, '1s'],
    ['p99Seconds', 0.7345, '735ms'],
    ['cpu', 0.022000000000000002, '0.022'],
    ['requestsPerSecond', 40, '40'],
  ])('%s %s reads %s', (key, value, text) => {
    expect(humanise(key, value)).toBe(text);
  });

  it('shows three items of a list and says what -v adds', () => {
    const routes = ['a', 'b', 'c', 'd', 'e'].map((route) => ({ route, errorRatio: 0.5 }));
    const quiet = evidenceText({ routes, query: 'x'.repeat(200) }, false);
    expect(quiet.lines).toEqual(['routes: [{route: a, errorRatio: 50%}, {route: b, errorRatio: 50%}, {route: c, errorRatio: 50%}]']);
    expect(quiet.hidden).toEqual(['2 more routes', 'query']);
    // One item too long to show is named, not counted ("1 routes").
    expect(evidenceText({ routes: ['y'.repeat(200)] }, false).hidden).toEqual(['routes']);
    const verbose = evidenceText({ routes, query: 'x'.repeat(200) }, true);
    expect(verbose.hidden).toEqual([]);
    expect(verbose.lines[1]).toBe(`query: ${'x'.repeat(200)}`);
  });
});

describe('a drill in text', () => {
  it('groups the same finding across pods, links the runbook as a command and wraps at 80 columns', async () => {
    const run = await runCaptured(['drill', 'high-error-rate']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.filter((l) => l.includes('AEG-1030'))).toHaveLength(1);
    expect(run.stdout).toMatch(/• AEG-1030 on 3 pods: aegis-api-\w+-\w+, aegis-api-\w+-\w+,\n\s+aegis-api-\w+-\w+ — 66 of the last 100 log lines are errors/);
    expect(run.stdout).toContain('      errorRatio: 61.2%\n');
    expect(run.stdout).toContain('      query, 2 routes; -v to show\n');
    expect(run.stdout).toContain('      runbook: aegis-ir runbook incident-classification\n');
    expect(run.stdout).not.toContain('runbook: runbooks/');
    // Commands are pasted whole, and a line without a space (an export's path) cannot break: all else fits 80 columns.
    expect(lines.filter((l) => l.length > 80 && l.trim().includes(' ') && !/^ {2}(\$ |aegis-ir |kubectl )/.test(l))).toEqual([]);
    const verbose = await runCaptured(['drill', 'high-error-rate', '-v']);
    expect(verbose.stdout).toContain('routes: [{route: GET /api/v1/findings, requestsPerSecond: 40');
    expect(verbose.stdout).not.toContain('-v to show');
  });

  it("links runbook sections that the runbook command shows", async () => {
    const run = await runCaptured(['runbook', 'incident-classification']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Incident Classification');
  });
});

describe('runbook --all and the post-incident commands', () => {
  it('prints every section of the runbook', async () => {
    const contents = await runCaptured(['runbook', '-o', 'json']);
    const titles = (JSON.parse(contents.stdout) as { sections: { title: string }[] }).sections.map((s) => s.title);
    const all = await runCaptured(['runbook', '--all']);
    expect(all.code).toBe(0);
    for (const title of titles) expect(all.stdout).toContain(title);
  });

  it('postmortem without any incident says so in one line, and where to start', async () => {
    const run = await runCaptured(['postmortem']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^aegis-ir: no incident in .+, so no post-mortem to write\n {2}try: aegis-ir incident open --from-triage\n$/);
    const section = await runCaptured(['runbook', 'post-incident']);
    expect(section.code).toBe(0);
    expect(section.stdout).toContain('aegis-ir postmortem');
    const typo = await runCaptured(['postmortme']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown command 'postmortme'");
    expect(typo.stderr).toContain('postmortem');
  });
});
