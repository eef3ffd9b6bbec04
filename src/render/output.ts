import type { Report } from '../checks/verdict.js';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import type { OutputFormat } from '../core/io.js';
import type { FailOn } from '../core/severity.js';

/** The schema version of every JSON document aegis-ir prints. */
export const SCHEMA_VERSION = 1;

/** How a text rendering may look. */
export interface TextOptions {
  color: boolean;
  verbose: boolean;
  /** Columns to wrap to (80 when absent). */
  width?: number;
}

/**
 * What a command prints, ready for every format: its document (json, yaml), its text, and, for triage and
 * diagnose (a drill too), the report that junit and markdown render. Commands build one and call {@link print};
 * which format it comes out in is decided here only.
 */
export interface Printable {
  document: Record<string, unknown>;
  /** What `-o yaml` prints when it is not the document: a Kubernetes object, to apply as it is. */
  yaml?: Record<string, unknown>;
  text(options: TextOptions): string;
  report?: Report;
  /** A line for the operator on stderr with the text format (what to type next). */
  hint?: string;
}

/** The formats every command prints; junit and markdown render a report, so only the commands that make one. */
export const DOCUMENT_FORMATS: readonly OutputFormat[] = ['text', 'json', 'yaml'];

/** Refuses, before anything runs, a format this command cannot print (`fix -o junit` must not apply, then fail). */
export function requireFormat(ctx: Context, formats: readonly OutputFormat[]): void {
  if (!formats.includes(ctx.config.output)) {
    throw new UsageError(
      `-o ${ctx.config.output} is for triage, diagnose and drill reports; this command prints ${formats.join(', ')}`,
      'aegis-ir triage -o junit',
    );
  }
}

/**
 * Renders `printable` in `format`. The renderers of the other formats (YAML's library above all) load only
 * when asked for, so no command's start-up or --help pays for them.
 */
export async function render(printable: Printable, format: OutputFormat, options: TextOptions & { failOn: FailOn }): Promise<string> {
  switch (format) {
    case 'json':
      return `${JSON.stringify(printable.document, null, 2)}\n`;
    case 'yaml':
      return (await import('yaml')).stringify(printable.yaml ?? printable.document, { lineWidth: 0 });
    case 'junit':
      return (await import('./junit.js')).junitReport(reportOf(printable), options.failOn);
    case 'markdown':
      return (await import('./summary.js')).markdownSummary(reportOf(printable));
    default:
      return printable.text(options);
  }
}

/** Prints `printable` on stdout in the run's format (its hint on stderr, with text). */
export async function print(ctx: Context, printable: Printable, verbose = false): Promise<void> {
  const format = ctx.config.output;
  ctx.io.stdout.write(await render(printable, format, { color: ctx.io.color, verbose, width: ctx.io.width, failOn: ctx.config.failOn }));
  if (format === 'text' && printable.hint) ctx.io.stderr.write(`${printable.hint}\n`);
  // In GitHub Actions the findings that fail the gate are annotated on the run's page too, whatever the format.
  if (printable.report && ctx.env.GITHUB_ACTIONS === 'true') {
    ctx.io.stderr.write((await import('./annotations.js')).githubAnnotations(printable.report, ctx.config.failOn));
  }
}

function reportOf(printable: Printable): Report {
  if (!printable.report) throw new UsageError('this command has no report to print as junit or markdown', 'aegis-ir triage -o junit');
  return printable.report;
}
