import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured, type CliRun } from '../helpers/cli.js';
import { startPagerDutySimulator, type PagerDutySimulator } from '../../src/sandbox/pagerduty-simulator/server.js';
import { startSlackSimulator, type SlackSimulator } from '../../src/sandbox/slack-simulator/server.js';
import { startStatuspageManageSimulator, type StatuspageManageSimulator } from '../../src/sandbox/statuspage-manage-simulator/server.js';

const today = new Date().toISOString().slice(0, 10).replace(/-/g, '');

describe('incident commands against Slack, PagerDuty and Statuspage', () => {
  let slack: SlackSimulator;
  let pagerduty: PagerDutySimulator;
  let statuspage: StatuspageManageSimulator;
  let state: string;
  let env: Record<string, string>;
  const runs: CliRun[] = [];
  const cli = async (...argv: string[]) => {
    const run = await runCaptured(argv, { env });
    runs.push(run);
    return run;
  };
  const json = async (...argv: string[]) => {
    const run = await cli(...argv, '-o', 'json');
    return { ...run, document: JSON.parse(run.stdout) as { incidents: Array<Record<string, any>>; undelivered: unknown[] } };
  };

  beforeAll(async () => {
    [slack, pagerduty, statuspage] = await Promise.all([startSlackSimulator(), startPagerDutySimulator(), startStatuspageManageSimulator()]);
    state = mkdtempSync(join(tmpdir(), 'aegis-incident-'));
    const config = join(state, 'config.yaml');
    writeFileSync(
      config,
      [
        'notify:',
        `  slack: { apiUrl: "${slack.apiUrl}" }`,
        `  pagerduty: { eventsUrl: "${pagerduty.eventsUrl}" }`,
        `  statuspage: { apiUrl: "${statuspage.apiUrl}", pageId: "${statuspage.pageId}", components: [cmp-api] }`,
        '',
      ].join('\n'),
    );
    env = {
      HOME: '/nonexistent',
      XDG_STATE_HOME: join(state, 'state'),
      AEGIS_IR_CONFIG: config,
      AEGIS_IR_AUDIT_LOG: join(state, 'audit.jsonl'),
      AEGIS_IR_SLACK_TOKEN: slack.token,
      AEGIS_IR_PAGERDUTY_ROUTING_KEY: pagerduty.routingKey,
      AEGIS_IR_STATUSPAGE_API_KEY: statuspage.apiKey,
      AEGIS_IR_TIMEOUT: '5s',
    };
  });
  afterAll(async () => {
    await Promise.all([slack?.close(), pagerduty?.close(), statuspage?.close()]);
  });

  it('opens INC-<today>-01 in its own channel, pages critical with the id as dedup_key, and posts once despite a 429', async () => {
    slack.fail(/chat\.postMessage/, { status: 429, body: JSON.stringify({ ok: false, error: 'ratelimited' }), headers: { 'Retry-After': '1', 'Content-Type': 'application/json' } });
    const run = await json('incident', 'open', '--sev', 'SEV1', '--title', 'API down', '--started', '45m', '--detected-by', 'pagerduty');
    expect(run.code, run.stderr).toBe(0);
    const [incident] = run.document.incidents;
    expect(incident).toMatchObject({ id: `INC-${today}-01`, channel: `#incident-${today}-01`, severity: 'SEV1', detectedBy: 'pagerduty' });
    expect(slack.channels.has(`incident-${today}-01`)).toBe(true);
    const posts = slack.messages.filter((m) => m.channel === `#incident-${today}-01`);
    expect(posts).toHaveLength(1);
    expect(JSON.stringify(posts[0]?.blocks)).toContain('Who is investigating');
    expect(posts[0]?.text).toContain('SEV1');
    // The 429 was answered, then the same post went through after Retry-After: two requests, one message.
    expect(slack.received.filter((r) => r.path === '/api/chat.postMessage').map((r) => r.status)).toEqual([429, 200]);
    expect(pagerduty.alerts.get(`INC-${today}-01`)).toMatchObject({ status: 'triggered', severity: 'critical', events: ['trigger'] });
  });

  it('numbers the second incident of the day -02', async () => {
    const run = await json('incident', 'open', '--sev', '3', '--title', 'Slow search');
    expect(run.document.incidents[0]?.id).toBe(`INC-${today}-02`);
    // SEV3 does not page.
    expect(pagerduty.alerts.has(`INC-${today}-02`)).toBe(false);
  });

  it('refuses to guess which incident an ID-less command means when two are open (exit 2, listing them)', async () => {
    const run = await cli('incident', 'status');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`INC-${today}-01`);
    expect(run.stderr).toContain(`INC-${today}-02`);
  });

  it('shows the Engineering Manager engaged 45 minutes into a SEV1 and the VP next at 1h', async () => {
    const run = await json('incident', 'status', `INC-${today}-01`);
    const { clock, startedAt } = run.document.incidents[0] as { clock: any; startedAt: string };
    expect(clock.engaged.map((l: { role: string }) => l.role)).toEqual(['On-Call', 'Engineering Manager']);
    expect(clock.next).toMatchObject({ role: 'VP Engineering', at: new Date(Date.parse(startedAt) + 3_600_000).toISOString() });
    expect(clock.responseMet).toBe(false);
    expect(clock.update.overdue).toBe(false);
    const text = await cli('incident', 'status', `INC-${today}-01`);
    expect(text.stdout).toMatch(/engaged: +On-Call \(pagerduty\), Engineering Manager \(@eng-manager\)/);
    expect(text.stdout).toMatch(/next: +VP Engineering at 1h/);
  });

  it('is overdue for an update after one recorded as given 20 minutes ago', async () => {
    const run = await json('incident', 'update', `INC-${today}-01`, 'Database', 'failover', 'started', '--at', '20m', '--status', 'identified');
    expect(run.code, run.stderr).toBe(0);
    expect(run.document.incidents[0]?.clock.update.overdue).toBe(true);
    expect(slack.messages.at(-1)?.text).toContain('Database failover started');
    expect((await cli('incident', 'status', `INC-${today}-01`)).stdout).toContain('OVERDUE');
  });

  it('pages when an update raises the SEV to SEV1, and escalate brings in the role named, with its contact', async () => {
    const id = `INC-${today}-02`;
    const raised = await json('incident', 'update', id, 'Search is down for everyone', '--sev', 'SEV1');
    expect(raised.code, raised.stderr).toBe(0);
    expect(pagerduty.alerts.get(id)).toMatchObject({ severity: 'critical', events: ['trigger'] });
    const escalated = await json('incident', 'escalate', id, '--to', 'engineering manager');
    expect(escalated.code, escalated.stderr).toBe(0);
    expect(escalated.document.incidents[0]?.escalations.at(-1)).toMatchObject({ to: 'Engineering Manager', contact: '@eng-manager', reason: 'manual' });
    expect(escalated.document.incidents[0]?.clock.next.role).toBe('VP Engineering');
    expect(slack.messages.at(-1)?.text).toContain(`${id} escalated to Engineering Manager (@eng-manager)`);
    const unknown = await cli('incident', 'escalate', id, '--to', 'CEO');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown role "CEO"; expected one of: On-Call, Engineering Manager, VP Engineering');
  });

  it('exits 4 naming PagerDuty while it answers 500, and the next command pages exactly once', async () => {
    pagerduty.fail(/\/v2\/enqueue/, ...Array.from({ length: 50 }, () => ({ status: 500, body: '{"status":"error","message":"Internal Server Error"}', headers: { 'Content-Type': 'application/json' } })));
    const run = await cli('incident', 'open', '--sev', 'SEV2', '--title', 'Checkout errors', '--timeout', '2s');
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/PagerDuty: PagerDuty answered 500/);
    const id = `INC-${today}-03`;
    expect(pagerduty.alerts.has(id)).toBe(false);
    pagerduty.heal();
    const next = await cli('incident', 'status', id);
    expect(next.code, next.stderr).toBe(0);
    expect(pagerduty.alerts.get(id)).toMatchObject({ severity: 'error', events: ['trigger'] });
    expect((await cli('incident', 'status', id)).code).toBe(0);
    expect(pagerduty.alerts.get(id)?.events).toEqual(['trigger']);
  });

  it('sends the public update to the status page and resolves the page and the page incident with the same keys', async () => {
    const opened = await json('incident', 'open', '--sev', 'SEV2', '--title', 'Scans delayed', '--customer-facing');
    const id = opened.document.incidents[0]?.id as string;
    expect(opened.document.incidents[0]?.publicDraft).toMatch(/We are investigating/);
    expect(slack.messages.some((m) => m.channel === '#customer-success' && m.text.includes(id))).toBe(true);
    const update = await json('incident', 'update', id, 'Scans are delayed by up to 20 minutes', '--public');
    expect(update.code, update.stderr).toBe(0);
    const [page] = [...statuspage.incidents.values()];
    expect(page).toMatchObject({ name: 'Scans delayed', status: 'investigating', components: { 'cmp-api': 'major_outage' } });
    const resolved = await json('incident', 'resolve', id, '--summary', 'Queue drained');
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(pagerduty.alerts.get(id)).toMatchObject({ status: 'resolved', events: ['trigger', 'resolve'] });
    expect(page).toMatchObject({ status: 'resolved', components: { 'cmp-api': 'operational' } });
    expect(resolved.document.incidents[0]).toMatchObject({ status: 'resolved', summary: 'Queue drained' });
  });

  it('never writes a secret to any output, record or log', () => {
    const secrets = [slack.token, pagerduty.routingKey, statuspage.apiKey];
    const files = readdirSync(join(state, 'state', 'aegis-ir', 'incidents')).map((f) => readFileSync(join(state, 'state', 'aegis-ir', 'incidents', f), 'utf8'));
    const everything = [...runs.flatMap((r) => [r.stdout, r.stderr]), ...files].join('\n');
    expect(files.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });
});

describe('Slack through an incoming webhook', () => {
  let slack: SlackSimulator;
  let env: Record<string, string>;
  beforeAll(async () => {
    slack = await startSlackSimulator();
    env = { HOME: '/nonexistent', XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'aegis-webhook-')), AEGIS_IR_SLACK_WEBHOOK_URL: slack.webhookUrl, AEGIS_IR_TIMEOUT: '5s' };
  });
  afterAll(async () => slack?.close());

  it('posts once after a 429 with Retry-After, and hides the webhook path everywhere', async () => {
    slack.fail(/^\/services\//, { status: 429, body: 'rate_limited', headers: { 'Retry-After': '1' } });
    const run = await runCaptured(['incident', 'open', '--sev', '2', '--title', 'Checkout errors', '--security'], { env });
    expect(run.code, run.stderr).toBe(0);
    // The initial update and the word to Security, each once, in the webhook's one channel.
    expect(slack.messages.map((m) => m.text)).toEqual([expect.stringContaining('SEV2: Checkout errors: SEV2 incident declared by the on-call'), expect.stringContaining('#security-ops: security incident')]);
    expect(slack.received.map((r) => r.status)).toEqual([429, 200, 200]);
    const path = new URL(slack.webhookUrl).pathname;
    const record = readdirSync(join(env.XDG_STATE_HOME as string, 'aegis-ir', 'incidents')).map((f) => readFileSync(join(env.XDG_STATE_HOME as string, 'aegis-ir', 'incidents', f), 'utf8')).join('');
    for (const text of [run.stdout, run.stderr, record]) expect(text).not.toContain(path.split('/').at(-1));
  });

  it('keeps a post Slack refused (no_service) pending, exits 4, and sends it once the webhook answers again', async () => {
    slack.fail(/^\/services\//, { status: 404, body: 'no_service' });
    const run = await runCaptured(['incident', 'update', 'Rolled back to v2.4.0'], { env });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('Slack answered 404 Not Found: no_service');
    expect(run.stderr).not.toContain(new URL(slack.webhookUrl).pathname.split('/').at(-1));
    const before = slack.messages.length;
    const again = await runCaptured(['incident', 'status'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(slack.messages.slice(before).map((m) => m.text)).toEqual([expect.stringContaining('Rolled back to v2.4.0')]);
    expect((await runCaptured(['incident', 'status'], { env })).code).toBe(0);
    expect(slack.messages.length).toBe(before + 1);
  });

  it('sends a pending post once when two commands deliver the outbox at the same time', async () => {
    slack.fail(/^\/services\//, { status: 404, body: 'no_service' });
    expect((await runCaptured(['incident', 'update', 'Two terminals'], { env })).code).toBe(4);
    const before = slack.messages.length;
    const [a, b] = await Promise.all([runCaptured(['incident', 'status'], { env }), runCaptured(['incident', 'status'], { env })]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(slack.messages.slice(before).map((m) => m.text)).toEqual([expect.stringContaining('Two terminals')]);
  });

  it('never posts twice a message whose answer was lost: it is reported, not re-sent', async () => {
    slack.fail(/^\/services\//, { reset: true });
    const run = await runCaptured(['incident', 'update', 'Database failover started'], { env });
    expect(run.code, run.stdout + run.stderr).toBe(4);
    expect(run.stderr).toMatch(/may have been delivered/);
    const before = slack.received.length;
    // Later commands show it (someone has to look in the channel) but do not send it, nor fail for it.
    const status = await runCaptured(['incident', 'status'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/1 undelivered: Slack post \(unconfirmed: may have been posted, not sent again;/);
    expect(slack.received.length).toBe(before);
  });
});
