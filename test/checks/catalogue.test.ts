import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../src/checks/catalogue.js';

describe('the finding catalogue', () => {
  it('gives every finding its own stable AEG-NNNN code', () => {
    const codes = CATALOGUE.map((kind) => kind.code);
    for (const code of codes) expect(code).toMatch(/^AEG-\d{4}$/);
    expect(codes.filter((code, i) => codes.indexOf(code) !== i)).toEqual([]);
  });
});
