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

/** Breaks `text` at spaces into lines of at most `width` characters. */
export function wrap(text: string, width: number): string {
  return wrapItems(text.split(' '), width).join('\n');
}
