import { Command } from 'commander';
import { ExitCode } from '../core/errors.js';
import manifest from '../../package.json' with { type: 'json' };
import { DOCUMENT_FORMATS, SCHEMA_VERSION, print, requireFormat } from '../render/output.js';
import { examples, type CommandHost } from './host.js';

/** The client libraries that talk to the systems aegis-ir inspects: what a bug report needs beside the version. */
const CLIENTS = ['@kubernetes/client-node', 'pg', 'axios'] as const;

/** What `version -o json` prints. */
export function versionDocument(): Record<string, unknown> {
  const dependencies: Record<string, string> = manifest.dependencies;
  return {
    schemaVersion: SCHEMA_VERSION,
    command: 'version',
    version: manifest.version,
    node: process.versions.node,
    clients: Object.fromEntries(CLIENTS.map((name) => [name, dependencies[name] ?? null])),
  };
}

/** `version`: aegis-ir's version, Node's, and the client libraries', as `kubectl version --client` and `gh version` do. */
export function versionCommand(host: CommandHost): Command {
  return new Command('version')
    .addHelpText('after', examples('aegis-ir version', 'aegis-ir version -o json'))
    .action(async (_options, command: Command) => {
      const ctx = await host.context(command);
      const document = versionDocument();
      const clients = Object.entries(document.clients as Record<string, string | null>).map(([name, v]) => `${name} ${v ?? 'unknown'}`);
      requireFormat(ctx, DOCUMENT_FORMATS);
      await print(ctx, { document, text: () => `aegis-ir ${manifest.version}\nnode ${process.versions.node}\n${clients.join('\n')}\n` });
      host.exit(ExitCode.ok);
    });
}
