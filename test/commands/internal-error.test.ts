import { describe, expect, it, vi } from 'vitest';
import { runCaptured } from '../helpers/cli.js';

// As if the installed package lost the runbook command's module.
vi.mock('../../src/commands/runbook.js', () => {
  throw new Error('cannot load the runbook command');
});

describe('a command module that fails to load', () => {
  it('is an internal error: exit 1, one line and the way to report it, no stack trace', async () => {
    const run = await runCaptured(['runbook']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^aegis-ir: internal error: /);
    expect(run.stderr).toContain('This is a bug in aegis-ir; rerun with AEGIS_IR_DEBUG=1');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
