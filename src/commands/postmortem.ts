import { Command } from 'commander';
import { ExitCode } from '../core/errors.js';
import type { PostmortemOptions } from './postmortem-draft.js';
import { examples, type CommandHost } from './host.js';

/**
 * `postmortem [ID]` (runbook: Post-Incident): confirms service is restored with a triage run (journalled),
 * then writes the draft from the incident record and its window of the journal — Markdown, or the
 * `-o json` document — to stdout or `--out FILE`; `--open` prints only the path of the file written.
 */
export function postmortemCommand(host: CommandHost): Command {
  return new Command('postmortem')
    .argument('[id]', 'incident id (default: the most recent incident)')
    .option('--out <file>', 'write the draft to FILE instead of stdout')
    .option('--open', 'write the draft to a file (--out, else one per incident under the state directory) and print its path')
    .addHelpText(
      'after',
      examples(
        'aegis-ir postmortem                          # the most recent incident, as Markdown',
        'aegis-ir postmortem INC-20261201-01 --out docs/postmortems/INC-20261201-01.md',
        '"$EDITOR" "$(aegis-ir postmortem --open)"     # write it, then edit it',
        'aegis-ir postmortem -o json',
      ),
    )
    .action(async (id: string | undefined, options: PostmortemOptions, command: Command) => {
      const ctx = await host.context(command);
      // The draft's modules load when it is written, not for `postmortem --help`.
      await (await import('./postmortem-draft.js')).writePostmortem(ctx, id, options);
      host.exit(ExitCode.ok);
    });
}
