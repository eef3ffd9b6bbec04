import { describe, expect, it } from 'vitest';
import { closestName } from '../../src/core/suggest.js';
import { runCaptured } from '../helpers/cli.js';

describe('closestName', () => {
  it.each([
    ['rolback', ['rollback', 'scale', 'restart'], 'rollback'],
    ['sacle', ['rollback', 'scale', 'restart'], 'scale'],
    ['MEMORY', ['api-errors', 'memory'], 'memory'],
    ['nope', ['rollback', 'scale', 'restart'], null],
    ['x', [], null],
  ])('%s among %j → %s', (typed, candidates, expected) => {
    expect(closestName(typed, candidates)).toBe(expected);
  });
});

describe('unknown names on the command line', () => {
  it.each([
    [['fix', 'rolback'], 'unknown remediation "rolback" (did you mean "rollback"?)', 'aegis-ir fix --list'],
    [['fix', 'nope'], 'unknown remediation "nope"; expected one of: db-connections', 'aegis-ir fix --list'],
    [['diagnose', 'memroy'], 'unknown diagnose section "memroy" (did you mean "memory"?)', 'aegis-ir diagnose --help'],
    [['runbook', 'escalaton'], 'unknown runbook section "escalaton" (did you mean "escalation"?)', 'aegis-ir runbook'],
  ])('%j: exit 2, naming the value and the closest match', async (argv, message, hint) => {
    const run = await runCaptured(argv);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain(`try: ${hint}`);
    expect(run.stderr).not.toContain('too many arguments');
  });

  it('with -o json, the refusal is one error document', async () => {
    const run = await runCaptured(['fix', 'rolback', '-o', 'json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ schemaVersion: 1, error: { exitCode: 2, message: expect.stringContaining('did you mean "rollback"') } });
  });
});
