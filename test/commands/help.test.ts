import { describe, expect, it } from 'vitest';
import { runCaptured } from '../helpers/cli.js';

/** Every command a user can type, as `--help` must document it. */
const COMMANDS = [['triage'], ['diagnose'], ['fix'], ['drill'], ['runbook']];

describe('--help', () => {
  it('lists every command at the top level and exits 0', async () => {
    const run = await runCaptured(['--help']);
    expect(run.code).toBe(0);
    for (const [name] of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    expect(run.stdout).toMatch(/Examples:\n {2}\$ aegis-ir drill/);
    expect(run.stdout).toContain('Exit codes: 0 ok');
  });

  it.each(COMMANDS)('%s --help shows its flags, the global flags and an example', async (...command) => {
    const run = await runCaptured([...command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: aegis-ir ${command.join(' ')}`);
    expect(run.stdout).toContain('Global Options:');
    expect(run.stdout).toContain('--kubeconfig <file>');
    expect(run.stdout).toContain('--fail-on <sev>');
    expect(run.stdout).toMatch(/Examples:\n {2}\$ aegis-ir /);
  });

  it.each([['triage'], ['fix', 'db-connections']])('%s exits 2 on an unknown flag and points at its own help', async (...command) => {
    const run = await runCaptured([...command, '--bogus']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--bogus'");
    expect(run.stderr).toContain(`(run "aegis-ir ${command.join(' ')} --help" for usage)`);
  });

  it('plain aegis-ir prints the help on stdout and exits 0', async () => {
    const run = await runCaptured([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: aegis-ir [options] [command]');
    expect(run.stderr).toBe('');
  });

  it('exits 2 on an unknown command and suggests the right one', async () => {
    const run = await runCaptured(['triag']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown command 'triag'");
    expect(run.stderr).toContain('triage');
  });
});

describe('--version', () => {
  it('prints the version of the package, from package.json', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const run = await runCaptured(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${version}\n`);
  });
});
