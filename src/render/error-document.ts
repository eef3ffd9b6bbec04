import { SCHEMA_VERSION } from './report.js';

/**
 * SPEC's document for a run that ends without its report or result (a usage error, a guard refusal,
 * an unreachable target, a bug): `{ schemaVersion, command, error: { exitCode, message, hint } }`.
 * `command` is what was run without the program's name: `fix scale`.
 */
export function errorDocument(command: string, exitCode: number, message: string, hint: string | undefined): Record<string, unknown> {
  return {
    schemaVersion: SCHEMA_VERSION,
    command: command.replace(/^aegis-ir ?/, ''),
    error: { exitCode, message, hint: hint ?? null },
  };
}
