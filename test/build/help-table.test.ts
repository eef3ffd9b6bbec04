import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedText, fixedTextKey, type HelpTable } from '../../src/help-table.js';
import { runCaptured } from '../helpers/cli.js';

const CLI = fileURLToPath(new URL('../../dist/aegis-ir.js', import.meta.url));
const TABLE = join(CLI, '..', 'help.json');
const built = existsSync(TABLE);
if (!built) console.warn('skipping the help-table tests of the bundle: dist/help.json is not built (npm test builds it first)');

describe('which runs print fixed text', () => {
  it.each([
    [[], ''],
    [['--help'], ''],
    [['-h'], ''],
    [['help'], ''],
    [['fix', 'rollback', '--help'], 'fix rollback'],
    [['fix', 'rollback', '-h'], 'fix rollback'],
    [['help', 'fix', 'rollback'], 'fix rollback'],
    [['--version'], '--version'],
  ])('%j is the fixed text of %j', (argv, key) => {
    expect(fixedTextKey(argv)).toBe(key);
  });

  it.each([[['triage']], [['triage', '-o', 'json', '--help']], [['--help', 'triage']], [['help', 'fix', '--verbose']], [['fix', '--version']], [['version']]])(
    '%j is left to the CLI',
    (argv) => {
      expect(fixedTextKey(argv)).toBeUndefined();
    },
  );

  const dir = mkdtempSync(join(tmpdir(), 'aegis-help-table-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = pathToFileURL(join(dir, 'help.json'));
  writeFileSync(file, JSON.stringify({ '': 'the program\n', triage: 'triage\n' } satisfies HelpTable));

  it('reads the table, and leaves a path it lacks, a missing table and a terminal narrower than the help to the CLI', () => {
    expect(fixedText(['triage', '--help'], { isTTY: false }, file)).toBe('triage\n');
    expect(fixedText([], { isTTY: true, columns: 120 }, file)).toBe('the program\n');
    expect(fixedText(['triage', '--help'], { isTTY: true, columns: 60 }, file)).toBeUndefined();
    expect(fixedText(['triag', '--help'], { isTTY: false }, file)).toBeUndefined();
    expect(fixedText(['constructor', '--help'], { isTTY: false }, file)).toBeUndefined();
    expect(fixedText(['--help'], { isTTY: false }, pathToFileURL(join(dir, 'none.json')))).toBeUndefined();
  });
});

describe.skipIf(!built)('the help table the build wrote', () => {
  const table = built ? (JSON.parse(readFileSync(TABLE, 'utf8')) as HelpTable) : {};

  it('is the one the CLI makes now, with every visible command in it', async () => {
    const run = await runCaptured(['__help-table']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(table);
    expect(Object.keys(table)).toEqual(expect.arrayContaining(['', 'triage', 'fix', 'fix db-connections', 'incident open', 'monitoring rules', 'help', '--version']));
  });

  it('holds, for every path, what the CLI prints for its --help, -h and help PATH', async () => {
    for (const [key, text] of Object.entries(table)) {
      const words = key === '--version' ? [] : key.split(' ').filter(Boolean);
      const forms = key === '--version' ? [['--version']] : [[...words, '--help'], [...words, '-h'], ['help', ...words]];
      for (const argv of forms) {
        const run = await runCaptured(argv);
        expect({ argv, code: run.code, stdout: run.stdout }).toEqual({ argv, code: 0, stdout: text });
      }
    }
  });

  it('is what the built CLI prints, without a terminal', () => {
    expect(execFileSync(process.execPath, [CLI, 'fix', 'rollback', '-h'], { encoding: 'utf8' })).toBe(table['fix rollback']);
    expect(execFileSync(process.execPath, [CLI], { encoding: 'utf8' })).toBe(table['']);
    // A flag more is the CLI's to read: the same help, from commander.
    expect(execFileSync(process.execPath, [CLI, 'fix', 'rollback', '--help', '--no-color'], { encoding: 'utf8' })).toBe(table['fix rollback']);
  });
});
