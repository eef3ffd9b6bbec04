import { describe, expect, it } from 'vitest';
import { groupByShape, logShapesCheck, shapeOf } from '../../../src/checks/api-errors/log-shapes.js';
import { describeEvaluations } from '../../helpers/fixtures.js';

describeEvaluations([logShapesCheck]);

describe('log shapes', () => {
  it('masks what varies between lines that say the same thing', () => {
    expect(shapeOf('ERROR db: connection refused to 10.0.3.7:5432 after 3012ms request_id=9f1c2a7e44')).toBe(
      'ERROR db: connection refused to <ip> after <n> request_id=<hex>',
    );
    expect(shapeOf('ERROR http: GET /api/v1/findings/6f1e0f7c-3b1a-4d2e-9a55-0c6a1e2b3c4d status=500 user="ann"')).toBe(
      'ERROR http: GET /api/v1/findings/<uuid> status=<n> user=<str>',
    );
  });

  it('counts per shape with the pods it came from', () => {
    const [top] = groupByShape([
      { pod: 'b', at: '2026-11-26T11:58:00.000Z', line: 'ERROR pool exhausted (20/20)' },
      { pod: 'a', at: '2026-11-26T11:57:00.000Z', line: 'ERROR pool exhausted (19/20)' },
      { pod: 'a', at: null, line: 'INFO all good' },
    ]);
    expect(top).toMatchObject({ shape: 'ERROR pool exhausted (<n>/<n>)', count: 2, pods: ['b', 'a'], firstAt: '2026-11-26T11:57:00.000Z' });
  });

  it('reads ERROR and FATAL case-sensitively, as the runbook greps', () => {
    expect(groupByShape([{ pod: 'a', at: null, line: 'no error here, just a word' }])).toEqual([]);
  });
});
