import { describe, expect, it } from 'vitest';
import { runCaptured } from '../helpers/cli.js';

/** Every command a user can type, as `--help` must document it. */
const COMMANDS = [['triage'], ['diagnose'], ['fix'], ['drill'], ['runbook'], ['completion'], ['version']];

describe('--help', () => {
  it('lists every command at the top level and exits 0', async () => {
    const run = await runCaptured(['--help']);
    expect(run.code).toBe(0);
    for (const [name] of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    expect(run.stdout).toMatch(/Examples:\n {2}\$ aegis-ir drill/);
    expect(run.stdout).toContain('Exit codes: 0 ok');
  });

  it.each(COMMANDS)('%s --help shows its own flags, then the global ones as a compact list, and an example', async (...command) => {
    const run = await runCaptured([...command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: aegis-ir ${command.join(' ')}`);
    expect(run.stdout).not.toContain('Global Options:');
    const inherited = run.stdout.slice(run.stdout.indexOf('Inherited Flags (aegis-ir --help describes them):'));
    expect(run.stdout.indexOf('Options:')).toBeLessThan(run.stdout.indexOf('Inherited Flags'));
    expect(inherited).toMatch(/^ {2}--kubeconfig <file> {2}--context <name> {2}-n, --namespace <ns>/m);
    expect(inherited).toContain('--fail-on <sev>');
    // Names only: the descriptions are the root's --help.
    expect(inherited).not.toContain('kubeconfig file (env: KUBECONFIG)');
    expect(run.stdout).toMatch(/Examples:\n {2}\$ aegis-ir /);
  });

  it.each([
    [['help', 'fix', 'rollback'], 'Usage: aegis-ir fix rollback'],
    [['help', 'fix'], 'Usage: aegis-ir fix <remediation> [options]'],
    [['help'], 'Usage: aegis-ir [options] [command]'],
    [['help', 'diagnose', 'memory'], 'Usage: aegis-ir diagnose [options] <section>'],
  ])('%j shows the help of the command it names', async (argv, usage) => {
    const run = await runCaptured(argv);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toContain(usage);
  });

  it('reads at 80 columns: only the example commands, which are pasted whole, are longer', async () => {
    const paths = [[], ['triage'], ['diagnose'], ['fix'], ['fix', 'rollback'], ['fix', 'ai-provider'], ['fix', 'revert'], ['fix', 'db-connections'], ['incident'], ['drill'], ['runbook']];
    for (const path of paths) {
      const run = await runCaptured(['help', ...path]);
      const long = run.stdout.split('\n').filter((line) => line.length > 80 && !line.startsWith('  $ '));
      expect({ path, long }).toEqual({ path, long: [] });
    }
  });

  it('help of a command that does not exist exits 2 and points at the help above it', async () => {
    const run = await runCaptured(['help', 'fix', 'rollbak']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown command "aegis-ir fix rollbak"');
    expect(run.stderr).toContain('try: aegis-ir fix --help');
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

describe('-v/--verbose', () => {
  it('prints a debug line per check on stderr, and nothing of the kind without it', async () => {
    const quiet = await runCaptured(['drill', 'healthy']);
    expect(quiet.stderr).not.toContain('debug:');
    const verbose = await runCaptured(['drill', 'healthy', '-v']);
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toMatch(/^debug: check pod-health: ok in \d+ms$/m);
    expect(verbose.stderr).toMatch(/^debug: check db-connections: skipped in \d+ms$/m);
  });
});
