import type { ChalkInstance } from 'chalk';
import { MARKDOWN_LINE } from '../runbook/markdown.js';
import { paint } from './style.js';
import { visibleLength, wrapWords } from './wrap.js';

/**
 * Markdown for a terminal: the subset the runbooks use (headings, tables, fenced code, bullets, bold, inline code,
 * links), rendered line by line. Without colour, the text still reads: tables stay aligned and inline code keeps its
 * backticks.
 */
export function renderMarkdown(markdown: string, options: { color: boolean; width?: number }): string {
  const c = paint(options.color);
  const lines = markdown.split('\n');
  const out: string[] = [];
  // The paragraph or list item being read: its source lines join into one text, wrapped to the width when it ends.
  let prose: { first: string; rest: string; words: string[] } | null = null;
  const endProse = () => {
    if (prose) out.push(...(options.width ? wrapWords(prose.words, options.width, prose.first, prose.rest) : [`${prose.first}${prose.words.join(' ')}`]));
    prose = null;
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    const [, lead = '', text = ''] = LEADING_SPACE.exec(line)!;
    // A line of text after a paragraph's (or an indented one after a list item's) continues it. Without a width to
    // wrap to, the source's lines are kept.
    if (prose && options.width && text && !BLOCK_START.test(text) && (!lead || prose.rest.length > 0)) {
      prose.words.push(...inline(text, c).split(' '));
      continue;
    }
    endProse();
    const fence = FENCE.exec(line);
    if (fence) {
      const indent = fence[1]!.length;
      for (i += 1; i < lines.length && !FENCE.test(lines[i]!); i += 1) out.push(codeLine(lines[i]!, indent, c));
      continue;
    }
    // Anchor lines are targets for links, with nothing to show.
    if (ANCHOR.test(line)) continue;
    const heading = HEADING.exec(line);
    if (heading) {
      const style = heading[1]!.length <= 2 ? c.bold.underline : c.bold;
      out.push(style(inline(heading[2]!, c)));
      continue;
    }
    if (line.trimStart().startsWith('|')) {
      const rows: string[] = [];
      for (; i < lines.length && lines[i]!.trimStart().startsWith('|'); i += 1) rows.push(lines[i]!);
      i -= 1;
      out.push(...table(rows, c));
      continue;
    }
    const bullet = BULLET.exec(line);
    if (bullet) {
      const first = `${bullet[1]}  • `;
      prose = { first, rest: ' '.repeat(first.length), words: inline(bullet[2]!, c).split(' ') };
      continue;
    }
    if (!text) {
      out.push('');
      continue;
    }
    // An indented line continues a list item: it lines up with the item's text, two columns right of its source.
    const indent = lead ? ' '.repeat(lead.length + 2) : '';
    prose = { first: indent, rest: indent, words: inline(text, c).split(' ') };
  }
  endProse();
  // Anchor lines and trailing newlines leave blank lines at the ends.
  return `${out.join('\n').replace(/^\n+|\s+$/g, '')}\n`;
}

const { anchor: ANCHOR, heading: HEADING, fence: FENCE } = MARKDOWN_LINE;
const BULLET = /^(\s*)[-*]\s+(.*)$/;
/** What starts a block of its own rather than continuing a paragraph: a heading, table, fence, item or anchor. */
const BLOCK_START = /^(#{1,6}\s|\||```|~~~|[-*]\s|<a\s)/;
const LEADING_SPACE = /^(\s*)(.*)$/;
const SEPARATOR_ROW = /^\s*\|?(\s*:?-+:?\s*\|)+\s*(:?-+:?\s*)?$/;
const INLINE = /`([^`]+)`|\*\*(.+?)\*\*|\[([^\]]+)\]\(([^)\s]+)\)/g;

function codeLine(line: string, fenceIndent: number, c: ChalkInstance): string {
  const code = line.slice(Math.min(fenceIndent, line.length - line.trimStart().length));
  // Comments dimmed so the commands to copy stand out.
  const tone = code.trimStart().startsWith('#') ? c.dim : c.cyan;
  return code ? `${' '.repeat(fenceIndent + 4)}${tone(code)}` : '';
}

function inline(text: string, c: ChalkInstance): string {
  return text.replace(INLINE, (_match, code?: string, bold?: string, label?: string, url?: string) => {
    if (code !== undefined) return c.level > 0 ? c.cyan(code) : `\`${code}\``;
    if (bold !== undefined) return c.bold(bold);
    return `${label} ${c.dim(`(${url})`)}`;
  });
}

/** Columns padded to their widest cell, measured without colour codes; the header bold and ruled off. */
function table(rows: string[], c: ChalkInstance): string[] {
  const hasHeader = rows.length > 1 && SEPARATOR_ROW.test(rows[1]!);
  const cells = rows.filter((row) => !SEPARATOR_ROW.test(row)).map((row) => splitRow(row).map((cell) => inline(cell, c)));
  const widths: number[] = [];
  for (const row of cells) row.forEach((cell, k) => (widths[k] = Math.max(widths[k] ?? 0, visibleLength(cell))));
  const format = (row: string[], style: (s: string) => string): string =>
    `  ${widths.map((w, k) => style(row[k] ?? '') + ' '.repeat(w - visibleLength(row[k] ?? ''))).join('  ')}`.trimEnd();
  const lines = cells.map((row, r) => format(row, hasHeader && r === 0 ? c.bold : (s) => s));
  if (hasHeader) lines.splice(1, 0, `  ${widths.map((w) => c.dim('─'.repeat(w))).join('  ')}`);
  return lines;
}

/** Cells of `| a | b |`; `\|` is a pipe inside a cell. */
function splitRow(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replaceAll('\\|', '|'));
}
