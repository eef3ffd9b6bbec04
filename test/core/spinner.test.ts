import { describe, expect, it } from 'vitest';
import { spinnerFits } from '../../src/core/app.js';

describe('the spinner', () => {
  it.each([
    ['a terminal 80 columns wide', { stderrIsTTY: true, stderrColumns: 80, env: { TERM: 'xterm-256color' } }, true],
    ['a terminal that reports 0 columns (script, some CI runners)', { stderrIsTTY: true, stderrColumns: 0, env: { TERM: 'xterm' } }, false],
    ['a terminal whose width is unknown', { stderrIsTTY: true, env: {} }, false],
    ['a dumb terminal', { stderrIsTTY: true, stderrColumns: 80, env: { TERM: 'dumb' } }, false],
    ['a pipe', { stderrIsTTY: false, stderrColumns: 80, env: {} }, false],
  ])('%s: drawn %s', (_name, runtime, fits) => {
    expect(spinnerFits(runtime)).toBe(fits);
  });
});
