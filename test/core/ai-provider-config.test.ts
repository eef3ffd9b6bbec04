import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config-file.js';
import { ConfigError } from '../../src/core/errors.js';

describe('aiProvider configuration', () => {
  const load = (env: Record<string, string>, flags: Record<string, unknown> = {}) => loadConfig({ env: { HOME: '/nonexistent', ...env }, flags });

  it("defaults to SPEC's providers: Anthropic's current status host and OpenAI's", () => {
    expect(load({}).aiProvider.providers).toEqual([
      { name: 'anthropic', statusPage: 'https://status.claude.com' },
      { name: 'openai', statusPage: 'https://status.openai.com' },
    ]);
    expect(load({}).thresholds.aiErrorLines).toBe(5);
    expect(load({}).aiProvider.keys.fallback).toBe('config.yaml#ai.fallback_provider');
  });

  it('takes NAME=URL pairs from AEGIS_IR_STATUS_PAGES, and --status-page over it', () => {
    const env = { AEGIS_IR_STATUS_PAGES: 'anthropic=http://127.0.0.1:9/a, openai=http://127.0.0.1:9/o' };
    expect(load(env).aiProvider.providers.map((p) => p.name)).toEqual(['anthropic', 'openai']);
    expect(load(env, { 'aiProvider.providers': 'mistral=https://status.mistral.ai' }).aiProvider.providers).toEqual([
      { name: 'mistral', statusPage: 'https://status.mistral.ai' },
    ]);
  });

  it('names the bad pair and what was expected', () => {
    const error = (() => {
      try {
        load({ AEGIS_IR_STATUS_PAGES: 'anthropic=status.claude.com' });
      } catch (e) {
        return e as ConfigError;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toContain('AEGIS_IR_STATUS_PAGES');
    expect(error?.message).toContain('"anthropic=status.claude.com"');
    expect(error?.message).toContain('NAME=URL pairs');
  });
});
