import type { Config } from '../../src/core/config.js';
import { loadConfig } from '../../src/core/config-file.js';

/** The default configuration with the given flag overrides, read from no file and no environment. */
export function testConfig(flags: Record<string, unknown> = {}): Config {
  return loadConfig({ file: undefined, env: { HOME: '/nonexistent' }, flags });
}
