/**
 * The runbook as sections. Sections are found by their explicit `<a id="…"></a>` anchors rather than by slugging
 * headings, so the ids findings link to stay the same whatever a heading is renamed to and whatever renders the file.
 */

/** One heading of the runbook and everything under it. */
export interface RunbookSection {
  /** The anchor before the heading: what findings link to and what `aegis-ir runbook <id>` takes. */
  id: string;
  title: string;
  /** Heading level, 2 for `##`. */
  level: number;
  /** The id of the enclosing section, null for a top-level one. */
  parent: string | null;
  /** The section's Markdown as in the file, from its anchor through its last subsection. */
  markdown: string;
  /** The `aegis-ir …` commands named in the section's own text (not its subsections'), without the `aegis-ir`. */
  commands: string[];
}

/** A parsed runbook: its `#` title and its sections in document order. */
export interface Runbook {
  title: string;
  sections: RunbookSection[];
}

/** The line shapes of runbooks/ Markdown that both this parser and the terminal renderer recognise. */
export const MARKDOWN_LINE = {
  /** `<a id="…"></a>` alone on the line before a heading. */
  anchor: /^<a id="([a-z0-9-]+)"><\/a>\s*$/,
  heading: /^(#{1,6})\s+(.+?)\s*$/,
  /** Opens or closes a code block, possibly indented under a list item. */
  fence: /^(\s*)(```|~~~)/,
};
const { anchor: ANCHOR, heading: HEADING, fence: FENCE } = MARKDOWN_LINE;
const COMMAND = /`aegis-ir ([^`]+)`/g;

/**
 * Parses runbook Markdown. Every heading below the `#` title must directly follow its anchor line, and anchors must be
 * unique: a runbook that breaks either would break links, so it is refused rather than guessed at.
 */
export function parseRunbook(markdown: string): Runbook {
  const lines = markdown.split('\n');
  let title = '';
  const starts: Array<{ id: string; title: string; level: number; line: number }> = [];
  let inFence = false;
  lines.forEach((line, index) => {
    if (FENCE.test(line)) inFence = !inFence;
    // A `#` inside a code block is a shell or PromQL comment, not a heading.
    const heading = inFence ? null : HEADING.exec(line);
    if (!heading) return;
    const level = heading[1]!.length;
    const text = heading[2]!;
    if (level === 1 && !title) {
      title = text;
      return;
    }
    const anchor = ANCHOR.exec(lines[index - 1] ?? '');
    if (!anchor) throw new Error(`runbook line ${index + 1}: heading "${text}" has no <a id="…"></a> line before it`);
    const id = anchor[1]!;
    if (starts.some((s) => s.id === id)) throw new Error(`runbook line ${index}: anchor "${id}" is used twice`);
    starts.push({ id, title: text, level, line: index - 1 });
  });

  const sections = starts.map((start, i): RunbookSection => {
    const end = starts.slice(i + 1).find((s) => s.level <= start.level)?.line ?? lines.length;
    const ownEnd = starts[i + 1]?.line ?? lines.length;
    const parent = starts.slice(0, i).findLast((s) => s.level < start.level);
    return {
      id: start.id,
      title: start.title,
      level: start.level,
      parent: parent?.id ?? null,
      markdown: lines.slice(start.line, end).join('\n').trimEnd(),
      commands: [...lines.slice(start.line, ownEnd).join('\n').matchAll(COMMAND)].map((m) => m[1]!),
    };
  });
  return { title, sections };
}

/**
 * The sections a user's `query` names, tried from the most to the least precise: an exact anchor id (or a finding's
 * whole `runbooks/…#id` link); then ids starting with it (`escalation`, `triage`); then a word of an id starting with
 * it (`memory`); then the section naming the most commands with a word starting with it (`db` for
 * `diagnose db-connections` and `fix db-connections`, not a passing mention elsewhere). The first rule that
 * matches decides; where it matches a section and its subsections, the enclosing section is the answer (`triage` is
 * the whole Triage Procedure). More than one result means the query is ambiguous; none, unknown.
 */
export function matchSections(runbook: Runbook, query: string): RunbookSection[] {
  const wanted = query.slice(query.lastIndexOf('#') + 1).trim().toLowerCase();
  if (!wanted) return [];
  const rules: Array<(s: RunbookSection) => boolean> = [
    (s) => s.id === wanted,
    (s) => s.id.startsWith(wanted),
    (s) => words(s.id).some((word) => word.startsWith(wanted)),
    // A section that names a command many times is about it; one that mentions it in passing is not.
    (s) => relevance(s, wanted) > 0 && relevance(s, wanted) === Math.max(...runbook.sections.map((o) => relevance(o, wanted))),
  ];
  for (const rule of rules) {
    const matches = runbook.sections.filter(rule);
    if (matches.length) return matches.filter((s) => !matches.some((other) => isWithin(runbook, s, other)));
  }
  return [];
}

/** How many words of the commands a section names (flags left out) start with `wanted`. */
function relevance(section: RunbookSection, wanted: string): number {
  return section.commands
    .flatMap((command) => command.split(/\s+/).filter((w) => !w.startsWith('-')))
    .flatMap(words)
    .filter((word) => word.startsWith(wanted)).length;
}

/** A hyphenated word and its parts: `db-connections`, `db`, `connections`. */
function words(word: string): string[] {
  return [word, ...word.split('-')];
}

/** Whether `section` is a subsection (at any depth) of `ancestor`. */
function isWithin(runbook: Runbook, section: RunbookSection, ancestor: RunbookSection): boolean {
  for (let id = section.parent; id !== null; id = runbook.sections.find((s) => s.id === id)?.parent ?? null) {
    if (id === ancestor.id) return true;
  }
  return false;
}
