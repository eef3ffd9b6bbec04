import { describe, expect, it } from 'vitest';
import { SEVERITY_CLASSES, meetsFailOn, parseSeverity, worstSeverity } from '../../src/core/severity.js';

describe('severity', () => {
  it('orders SEV1 as the worst', () => {
    expect(worstSeverity('SEV3', 'SEV1')).toBe('SEV1');
    expect(worstSeverity(null, 'SEV4')).toBe('SEV4');
    expect(worstSeverity('SEV2', null)).toBe('SEV2');
  });

  it.each([
    ['SEV1', 'SEV2', true],
    ['SEV2', 'SEV2', true],
    ['SEV3', 'SEV2', false],
    ['SEV4', 'SEV4', true],
    ['SEV1', 'never', false],
  ] as const)('%s meets --fail-on %s: %s', (severity, failOn, expected) => {
    expect(meetsFailOn(severity, failOn)).toBe(expected);
  });

  it('never fails on a healthy verdict', () => {
    expect(meetsFailOn(null, 'SEV4')).toBe(false);
  });

  it('reads the ways people type a severity', () => {
    expect(parseSeverity('2')).toBe('SEV2');
    expect(parseSeverity('sev3')).toBe('SEV3');
    expect(parseSeverity('SEV5')).toBeUndefined();
  });

  it('carries the runbook response times and escalation matrix', () => {
    expect(SEVERITY_CLASSES.SEV1.responseTime).toBe('15m');
    expect(SEVERITY_CLASSES.SEV3.responseTime).toBe('2h');
    expect(SEVERITY_CLASSES.SEV1.escalation.map((s) => s.to)).toEqual(['On-Call', 'Engineering Manager', 'VP Engineering']);
    expect(SEVERITY_CLASSES.SEV2.escalation.map((s) => s.to)).toEqual(['On-Call', 'Tech Lead', 'Engineering Manager']);
    expect(SEVERITY_CLASSES.SEV4.escalation).toEqual([{ after: '0m', to: 'Assigned Engineer' }]);
  });
});
