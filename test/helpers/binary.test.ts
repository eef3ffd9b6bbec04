import { afterEach, describe, expect, it, vi } from 'vitest';
import { findBinary } from './binary.js';

describe('a tool the tests need', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('missing is a skip reason on a laptop', () => {
    vi.stubEnv('CI', '');
    vi.stubEnv('PROMETHEUS_BIN', '/nonexistent/prometheus');
    expect(findBinary('prometheus', 'PROMETHEUS_BIN', 'apt-get install -y prometheus')).toEqual({ missing: 'PROMETHEUS_BIN=/nonexistent/prometheus is not executable' });
  });

  it('missing fails the run under CI=true', () => {
    vi.stubEnv('CI', 'true');
    vi.stubEnv('PROMETHEUS_BIN', '/nonexistent/prometheus');
    expect(() => findBinary('prometheus', 'PROMETHEUS_BIN', 'apt-get install -y prometheus')).toThrow(
      'CI=true and a tool the tests need is missing: PROMETHEUS_BIN=/nonexistent/prometheus is not executable',
    );
  });
});
