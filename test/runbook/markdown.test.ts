import { describe, expect, it } from 'vitest';
import { matchSections, parseRunbook } from '../../src/runbook/markdown.js';

const SAMPLE = `# Sample Runbook

<a id="triage"></a>
## Triage

Start here with \`aegis-ir triage\`.

<a id="triage-step-1"></a>
### Step 1

\`\`\`bash
# not a heading: a shell comment
kubectl get pods
\`\`\`

<a id="issue-db"></a>
## Issue: Database

Run \`aegis-ir diagnose db-connections --dry-run\`.

<a id="issue-memory"></a>
## Issue: Memory
`;

describe('parseRunbook', () => {
  const runbook = parseRunbook(SAMPLE);

  it('reads the title and each anchored section with its level and parent', () => {
    expect(runbook.title).toBe('Sample Runbook');
    expect(runbook.sections.map(({ id, title, level, parent }) => ({ id, title, level, parent }))).toEqual([
      { id: 'triage', title: 'Triage', level: 2, parent: null },
      { id: 'triage-step-1', title: 'Step 1', level: 3, parent: 'triage' },
      { id: 'issue-db', title: 'Issue: Database', level: 2, parent: null },
      { id: 'issue-memory', title: 'Issue: Memory', level: 2, parent: null },
    ]);
  });

  it("gives a section its subsections' Markdown but only its own commands", () => {
    const [triage] = runbook.sections;
    expect(triage?.markdown).toMatch(/^<a id="triage"><\/a>\n## Triage\n/);
    expect(triage?.markdown).toContain('kubectl get pods');
    expect(triage?.markdown).not.toContain('Issue: Database');
    expect(triage?.commands).toEqual(['triage']);
    expect(runbook.sections[2]?.commands).toEqual(['diagnose db-connections --dry-run']);
  });

  it('refuses a heading without an anchor, and an anchor used twice', () => {
    expect(() => parseRunbook('# T\n\n## Loose\n')).toThrow(/line 3: heading "Loose" has no <a id/);
    expect(() => parseRunbook('# T\n<a id="x"></a>\n## A\n<a id="x"></a>\n## B\n')).toThrow(/anchor "x" is used twice/);
  });
});

describe('matchSections', () => {
  const runbook = parseRunbook(SAMPLE);
  const ids = (query: string) => matchSections(runbook, query).map((s) => s.id);

  it.each([
    ['triage', ['triage']], // exact id, though a subsection's id starts with it too
    ['triage-step', ['triage-step-1']], // start of an id
    ['TRIAGE-STEP-1', ['triage-step-1']],
    ['memory', ['issue-memory']], // a word of the id
    ['db', ['issue-db']], // a word of a command the section names
    ['connections', ['issue-db']],
    ['runbooks/incident-response.md#issue-db', ['issue-db']], // a finding's link
    ['issue', ['issue-db', 'issue-memory']], // ambiguous
    ['dry-run', []], // flags are not keywords
    ['nothing', []],
    ['', []],
  ])('%j → %j', (query, expected) => {
    expect(ids(query)).toEqual(expected);
  });
});
