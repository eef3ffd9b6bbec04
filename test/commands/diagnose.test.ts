import { describe, expect, it } from 'vitest';
import { runCaptured } from '../helpers/cli.js';

describe('diagnose with nothing to read', () => {
  it('exits 4 and says what to configure when every check skipped itself', async () => {
    const run = await runCaptured(['diagnose', 'db-connections']);
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'aegis-ir: unknown: nothing could be assessed: db-connections skipped: no database configured ' +
        '(pass --database-url, set DATABASE_URL or the PG* variables, or database.url)\n',
    );
  });
});
