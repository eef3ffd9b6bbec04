import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../src/render/markdown.js';

describe('renderMarkdown', () => {
  const TABLE = ['| Severity | Response Time |', '|---|---|', '| SEV1 | 15 min |', '| SEV4 | 1 business day |'].join('\n');

  it('aligns table columns and rules off the header', () => {
    expect(renderMarkdown(TABLE, { color: false })).toBe(
      [
        '  Severity  Response Time',
        '  ────────  ──────────────',
        '  SEV1      15 min',
        '  SEV4      1 business day',
        '',
      ].join('\n'),
    );
  });

  it('measures columns without colour codes, so coloured tables align too', () => {
    const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');
    const coloured = renderMarkdown('| a | b |\n|---|---|\n| `code` | x |\n| longer cell | y |', { color: true });
    expect(coloured).toContain('\u001b[');
    expect(plain(coloured).split('\n').slice(2, 4)).toEqual(['  code         x', '  longer cell  y']);
  });

  it('renders headings, bullets, code, inline code, bold and links as plain text without colour', () => {
    const out = renderMarkdown(
      [
        '<a id="x"></a>',
        '## Issue: Memory',
        '',
        '**Symptoms:** OOMKilled pods, see [Grafana](https://grafana.example)',
        '',
        '- Restart with `kubectl rollout restart`',
        '  - nested',
        '',
        '```bash',
        '# Check memory usage',
        'kubectl top pods -n aegis',
        '```',
      ].join('\n'),
      { color: false },
    );
    expect(out).not.toMatch(/\u001b\[/);
    expect(out).toBe(
      [
        'Issue: Memory',
        '',
        'Symptoms: OOMKilled pods, see Grafana (https://grafana.example)',
        '',
        '  • Restart with `kubectl rollout restart`',
        '    • nested',
        '',
        '    # Check memory usage',
        '    kubectl top pods -n aegis',
        '',
      ].join('\n'),
    );
  });

  it('colours code and inline code when colour is on, dropping the backticks', () => {
    const out = renderMarkdown('Run `aegis-ir triage`.\n\n```\nkubectl get pods\n```', { color: true });
    expect(out).toContain('\u001b[36maegis-ir triage\u001b[39m');
    expect(out).toContain('    \u001b[36mkubectl get pods\u001b[39m');
  });

  it("lines up a list item's continuation lines and code under its text", () => {
    const out = renderMarkdown('- Kill idle\n  connections:\n\n  ```sql\n  SELECT 1;\n  ```\n', { color: false });
    expect(out).toBe('  • Kill idle\n    connections:\n\n      SELECT 1;\n');
  });

  it('joins a paragraph or list item into one text and wraps it to the width, leaving code and tables whole', () => {
    const markdown = 'One two three\nfour five six seven.\n\n- Kill idle\n  connections now:\n\n  ```sql\n  SELECT pg_terminate_backend(pid);\n  ```\n\n| a | b |\n|---|---|\n| long cell here | x |\n';
    expect(renderMarkdown(markdown, { color: false, width: 16 })).toBe(
      'One two three\nfour five six\nseven.\n\n  • Kill idle\n    connections\n    now:\n\n      SELECT pg_terminate_backend(pid);\n\n  a               b\n  ──────────────  ─\n  long cell here  x\n',
    );
  });
});
