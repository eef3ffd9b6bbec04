import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../helpers/cli.js';
import { startSlackSimulator, type SlackSimulator } from '../../src/sandbox/slack-simulator/server.js';

async function until(condition: () => boolean, what: () => string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('incident watch', () => {
  let slack: SlackSimulator;
  let env: Record<string, string>;
  beforeAll(async () => {
    slack = await startSlackSimulator();
    const dir = mkdtempSync(join(tmpdir(), 'aegis-watch-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'incident: { updateEvery: 2s }\n');
    env = { HOME: '/nonexistent', XDG_STATE_HOME: dir, AEGIS_IR_CONFIG: config, AEGIS_IR_SLACK_WEBHOOK_URL: slack.webhookUrl };
  });
  afterAll(async () => slack?.close());

  it('escalates on time, reminds once when an update is due, and exits 0 when the incident is resolved elsewhere', async () => {
    expect((await runCaptured(['incident', 'open', '--sev', '1', '--title', 'API down', '--started', '29m58s'], { env })).code).toBe(0);
    const watching = runCaptured(['incident', 'watch'], { env });
    await until(() => slack.messages.some((m) => m.text.includes('escalated to Engineering Manager (@eng-manager)')), () => JSON.stringify(slack.messages.map((m) => m.text)));
    await until(() => slack.messages.some((m) => m.text.includes('an update was due')), () => JSON.stringify(slack.messages.map((m) => m.text)));
    // Another operator resolves it; watch sees that at its next look and ends.
    expect((await runCaptured(['incident', 'resolve', '--summary', 'Database back'], { env })).code).toBe(0);
    const run = await watching;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/escalated to Engineering Manager \(@eng-manager\) by the SEV1 matrix/);
    expect(run.stdout).toMatch(/was resolved/);
    expect(slack.messages.filter((m) => m.text.includes('escalated to Engineering Manager'))).toHaveLength(1);
    expect(slack.messages.filter((m) => m.text.includes('an update was due'))).toHaveLength(1);
  });

  it('stops on Ctrl-C with exit 130 and leaves the record whole', async () => {
    expect((await runCaptured(['incident', 'open', '--sev', '2', '--title', 'Slow'], { env })).code).toBe(0);
    const controller = new AbortController();
    const watching = runCaptured(['incident', 'watch'], { env, signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 300));
    controller.abort();
    const run = await watching;
    expect(run.code).toBe(130);
    const status = await runCaptured(['incident', 'status', '-o', 'json'], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).incidents[0]).toMatchObject({ title: 'Slow', status: 'investigating' });
  });
});
