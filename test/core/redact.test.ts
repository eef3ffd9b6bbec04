import { describe, expect, it } from 'vitest';
import { Redactor, redact } from '../../src/core/redact.js';

describe('redact', () => {
  it.each([
    ['postgres://app:s3cr3t@db:5432/aegis', 'postgres://app:***@db:5432/aegis'],
    ['Authorization: Bearer eyJhbGciOi.x-y_z', 'Authorization: Bearer ***'],
    ['host=db password=hunter2 user=app', 'host=db password=*** user=app'],
    ['https://hooks.slack.com/services/T000/B000/XXXX', 'https://hooks.slack.com/***'],
  ])('hides the secret in %s', (text, expected) => {
    expect(redact(text)).toBe(expected);
  });

  it('leaves ordinary text alone', () => {
    const text = 'pod/aegis-api-7d9 restarted 5m ago (OOMKilled)';
    expect(redact(text)).toBe(text);
  });
});

describe('Redactor', () => {
  it('hides the literal secrets of the run, raw and URL-encoded', () => {
    const redactor = new Redactor();
    redactor.add('pa:ss/word', undefined, '');
    expect(redactor.redact('driver said: password pa:ss/word rejected')).toBe('driver said: password *** rejected');
    expect(redactor.redact('url user:pa%3Ass%2Fword@db')).not.toContain('pa%3Ass%2Fword');
  });

  it('hides a secret inside JSON output, where its quotes and backslashes are escaped', () => {
    const redactor = new Redactor();
    redactor.add('p"a\\ss');
    expect(redactor.redact(JSON.stringify({ error: 'password p"a\\ss rejected' }))).toBe('{"error":"password *** rejected"}');
  });

  it('ignores values too short to be told from ordinary text', () => {
    const redactor = new Redactor();
    redactor.add('ab');
    expect(redactor.redact('about a tab')).toBe('about a tab');
  });
});
