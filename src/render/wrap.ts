/** Lines of at most `width` characters made of `items` in order, `gap` between two on a line; an item is never split. */
export function wrapItems(items: readonly string[], width: number, gap = ' '): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line && line.length + gap.length + item.length > width) {
      lines.push(line);
      line = item;
    } else line = line ? `${line}${gap}${item}` : item;
  }
  return [...lines, line];
}

/** Prose for a person: each paragraph (they are separated by a blank line) reflowed to `width`, the source's own line breaks dropped. */
export function reflow(text: string, width: number): string {
  return text
    .trim()
    .split(/\n\s*\n/)
    .map((paragraph) => wrapWords(paragraph.trim().split(/\s+/), width, '', '').join('\n'))
    .join('\n\n');
}

/** `  name  text…` rows of a list, `text` wrapped under itself: the name column stays clear. */
export function listRow(head: string, text: string, width: number): string {
  return wrapWords(text.split(' '), width, head, ' '.repeat(visibleLength(head))).join('\n');
}

/** `line` broken at spaces to `width` visible columns, continuation lines indented under its text. */
export function wrapLine(line: string, width: number): string[] {
  if (visibleLength(line) <= width) return [line];
  const lead = /^ */.exec(line)?.[0] ?? '';
  const indent = ' '.repeat(Math.min(lead.length + 4, Math.floor(width / 2)));
  return wrapWords(line.slice(lead.length).split(' '), width, lead, indent);
}

/** Each line of `text` wrapped to `width` ({@link wrapLine}), but those `whole` matches: they are pasted or compared as they are. */
export function wrapText(text: string, width: number, whole: RegExp): string {
  return text
    .split('\n')
    .flatMap((line) => (whole.test(line) ? [line] : wrapLine(line, width)))
    .join('\n');
}

/** Breaks `text` at spaces into lines of at most `width` characters. */
export function wrap(text: string, width: number): string {
  return wrapItems(text.split(' '), width).join('\n');
}

// The escapes colour adds, which take no room on screen.
const SGR = /\u001b\[[0-9;]*m/g;

/** How many columns `text` takes on screen: colour escapes take none. */
export function visibleLength(text: string): number {
  return text.replace(SGR, '').length;
}

/**
 * `words` joined by spaces into lines of at most `width` visible columns, the first line after `first` and the
 * others after `rest` (a hanging indent); a word is never split, and no line ends in a space.
 */
export function wrapWords(words: readonly string[], width: number, first: string, rest: string): string[] {
  const out: string[] = [];
  let current = first;
  let started = false;
  for (const word of words) {
    const candidate = started ? `${current} ${word}` : `${current}${word}`;
    if (started && visibleLength(candidate) > width) {
      out.push(current.trimEnd());
      current = `${rest}${word}`;
    } else current = candidate;
    started ||= word !== '';
  }
  return [...out, current];
}
