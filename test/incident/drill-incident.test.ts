import { describe, expect, it } from 'vitest';
import { runCaptured } from '../helpers/cli.js';

describe('drill --with-incident', () => {
  it('plays open --from-triage, updates, the public update, status and resolve against the simulators, never the real services', async () => {
    // The operator's own PagerDuty and Slack settings must not be paged by a game day.
    const env = { HOME: '/nonexistent', AEGIS_IR_PAGERDUTY_ROUTING_KEY: 'r'.repeat(32), AEGIS_IR_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/real' };
    const run = await runCaptured(['drill', 'api-down', '--with-incident', '-o', 'json'], { env });
    expect(run.code, run.stderr).toBe(0);
    const document = JSON.parse(run.stdout) as { passed: boolean; triage: { impact: unknown }; incident: Array<{ command: string; exitCode: number; document: any }> };
    expect(document.passed).toBe(true);
    expect(document.incident.map((s) => [s.command.split(' ').slice(1, 3).join(' '), s.exitCode])).toEqual([
      ['incident open', 0],
      ['incident update', 0],
      ['incident update', 0],
      ['incident status', 0],
      ['incident resolve', 0],
    ]);
    const opened = document.incident[0]?.document.incidents[0];
    expect(opened).toMatchObject({ severity: 'SEV1', detectedBy: 'aegis-ir', customerFacing: true, impact: { assessment: document.triage.impact } });
    expect(document.incident[4]?.document.incidents[0]).toMatchObject({ status: 'resolved' });
    // Resolving confirms service is restored (the drill's api-down is still down: not confirmed), lists what is
    // still in effect, and points at the post-mortem.
    const resolved = document.incident[4]?.document;
    expect(resolved.next.map((n: string) => n.split('#')[0]?.trim())).toEqual([`aegis-ir postmortem ${opened.id}`]);
    expect(resolved.checklist.items.map((i: { id: string; done: boolean }) => [i.id, i.done])).toEqual([
      ['document-timeline', true],
      ['confirm-restored', false],
      ['remove-mitigations', true],
      // api-down's findings (no ready pod, the health command) are none that a rule of `monitoring rules` covers.
      ['update-monitoring', true],
    ]);
    expect(run.stderr).toMatch(/^service not confirmed restored: triage: SEV1: /m);
    // What the simulators received is printed for the game day, the first post's 429 included.
    expect(run.stderr).toMatch(/slack chat\.postMessage: answered 429/);
    expect(run.stderr).toMatch(new RegExp(`pagerduty trigger ${opened.id} \\(critical\\)`));
    expect(run.stderr).toMatch(/statuspage resolved/);
    expect(run.stdout + run.stderr).not.toContain('r'.repeat(32));
  });
});
