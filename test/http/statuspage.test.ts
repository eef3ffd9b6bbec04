import { existsSync, readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateStatusPage, providerState } from '../../src/checks/ai-provider/status-page.js';
import { createHttpPort } from '../../src/http/client.js';
import { HttpError } from '../../src/http/errors.js';
import { readStatusPage, statusPageRoot, summarise, summarySchema, type StatusSummary } from '../../src/http/statuspage.js';
import { testConfig } from '../helpers/config.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'statuspage');
const fixture = (name: string): StatusSummary => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as StatusSummary;
const env = { config: testConfig(), now: new Date('2026-11-26T12:00:00Z') };

describe('Statuspage v2 reader', () => {
  /** Pages by path prefix: each fixture under /<name>, and the ways a status page host misbehaves. */
  const server = createServer((request, response: ServerResponse) => {
    const [, name = '', ...rest] = (request.url ?? '').split('/');
    const path = `/${rest.join('/')}`;
    if (name === 'login') {
      response.writeHead(302, { Location: '/sso/login.html' }).end();
    } else if (name === 'sso') {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Sign in</title>');
    } else if (name === 'unknown-enum') {
      const page = fixture('claude-major-outage') as unknown as { status: { indicator: string } };
      page.status.indicator = 'catastrophic';
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(page));
    } else if (name === 'empty') {
      response.writeHead(200, { 'Content-Type': 'application/json' }).end();
    } else if (path === '/api/v2/summary.json' && existsSync(join(FIXTURES, `${name}.json`))) {
      response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' }).end(readFileSync(join(FIXTURES, `${name}.json`)));
    } else {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
    }
  });
  let base = '';
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve())).then(() => {
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }));
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const http = createHttpPort({ signal: new AbortController().signal, timeoutMs: 2_000, clock: { now: () => env.now } });

  it("reads Anthropic's Atlassian page: the Claude API component by name, the incident with its latest update", async () => {
    const page = await readStatusPage(http, { name: 'anthropic', statusPage: `${base}/claude-major-outage/` });
    expect(page.url).toBe(`${base}/claude-major-outage`);
    expect(page.indicator).toBe('major');
    expect(page.apiComponents).toEqual([{ name: 'Claude API (api.anthropic.com)', status: 'major_outage' }]);
    expect(page.nonOperational.map((c) => c.name)).toEqual(['claude.ai', 'Claude API (api.anthropic.com)', 'Claude Code']);
    expect(page.incidents).toEqual([
      {
        name: 'Elevated errors on Claude API',
        impact: 'major',
        status: 'identified',
        startedAt: '2026-11-26T11:42:17.299Z',
        components: ['Claude API (api.anthropic.com)', 'claude.ai'],
        latestUpdate: { status: 'identified', body: 'The issue has been identified and a fix is being implemented.', at: '2026-11-26T11:58:41.866Z' },
        link: 'https://stspg.io/7mq2xkd9tb1c',
      },
    ]);
    expect(providerState(page)).toBe('down');
    const [finding] = evaluateStatusPage(page, env);
    expect(finding?.code).toBe('AEG-4001');
    expect(finding?.summary).toContain('Claude API (api.anthropic.com) major outage; incident "Elevated errors on Claude API" (major, identified');
  });

  it("reads OpenAI's incident.io page, whose incident lists no components: degraded, not operational", async () => {
    const page = await readStatusPage(http, { name: 'openai', statusPage: `${base}/openai-incident-no-components/api/v2/summary.json` });
    expect(page.apiComponents).toEqual([
      { name: 'Chat Completions', status: 'degraded_performance' },
      { name: 'Responses', status: 'operational' },
      { name: 'Embeddings', status: 'operational' },
    ]);
    expect(page.incidents[0]?.components).toEqual([]);
    expect(page.incidents[0]?.latestUpdate?.body).toBe('A fix has been implemented and we are monitoring the results.');
    expect(evaluateStatusPage(page, env).map((f) => [f.code, f.severity])).toEqual([['AEG-4002', 'SEV3']]);
  });

  it('takes a major page with an incident naming no component as the API down, though every component reads operational', () => {
    const summary = fixture('openai-operational');
    summary.status = { indicator: 'major', description: 'Partial System Outage' };
    summary.incidents = [{ id: '01JQ', name: 'API errors', status: 'investigating', impact: 'major', incident_updates: [], components: [] }];
    expect(providerState(summarise({ name: 'openai', statusPage: 'x' }, 'x', summarySchema.parse(summary)))).toBe('down');
  });

  it('reads operational pages and maintenance for what they are', async () => {
    const quiet = await readStatusPage(http, { name: 'openai', statusPage: `${base}/openai-operational` });
    expect(evaluateStatusPage(quiet, env).map((f) => [f.code, f.severity])).toEqual([['AEG-4000', null]]);
    const maintenance = await readStatusPage(http, { name: 'anthropic', statusPage: `${base}/claude-maintenance` });
    expect(providerState(maintenance)).toBe('maintenance');
    expect(maintenance.maintenances[0]?.startedAt).toBe('2026-11-26T11:00:00.000Z');
  });

  it('matches the configured component names, whatever the ids', () => {
    const page = summarise({ name: 'anthropic', statusPage: 'x', components: ['claude.ai'] }, 'x', fixture('claude-major-outage'));
    expect(page.apiComponents).toEqual([{ name: 'claude.ai', status: 'partial_outage' }]);
  });

  it('is unknown, never operational, when the page answers HTML, a redirect to HTML, an unknown value or nothing', async () => {
    const failure = (url: string) =>
      readStatusPage(http, { name: 'anthropic', statusPage: url }).then(
        () => {
          throw new Error(`${url} was read`);
        },
        (error: unknown) => error as HttpError,
      );
    const login = await failure(`${base}/login`);
    expect(login).toBeInstanceOf(HttpError);
    expect([login.kind, login.target]).toEqual(['html', 'statuspage']);
    expect(login.message).toBe(`anthropic's status page answered an HTML page, not JSON after a redirect to ${base}/sso/login.html (${base}/login/api/v2/summary.json)`);
    expect(login.hint).toContain('--status-page anthropic=URL');
    const unknown = await failure(`${base}/unknown-enum`);
    expect(unknown.kind).toBe('invalid-body');
    expect(unknown.message).toContain('status.indicator');
    expect((await failure(`${base}/missing`)).status).toBe(404);
    expect((await failure(`${base}/empty`)).kind).toBe('invalid-body');
  });

  it('takes the page root whether given as the root or an API URL', () => {
    expect(statusPageRoot('https://status.claude.com/')).toBe('https://status.claude.com');
    expect(statusPageRoot('https://status.openai.com/api/v2/status.json')).toBe('https://status.openai.com');
  });
});
