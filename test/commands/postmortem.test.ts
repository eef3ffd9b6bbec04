import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Postmortem } from '../../src/incident/postmortem.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { runCaptured, type CliRun } from '../helpers/cli.js';

/**
 * The runbook played end to end against the sandbox (high-error-rate: a deploy that made the API answer
 * 5xx): triage, declare from triage, diagnose, roll back, update, escalate, resolve — then the post-mortem.
 */
describe('postmortem after an incident played end to end', () => {
  let sandbox: Sandbox;
  let env: Record<string, string | undefined>;
  const cli = (...argv: string[]): Promise<CliRun> => runCaptured(argv, { env });
  const steps: Record<string, CliRun> = {};

  beforeAll(async () => {
    sandbox = await startSandbox('high-error-rate');
    env = { HOME: sandbox.dir, XDG_STATE_HOME: join(sandbox.dir, 'state'), USER: 'oncall', ...sandbox.env };
    for (const [name, argv] of [
      ['triage', ['triage']],
      ['open', ['incident', 'open', '--from-triage']],
      ['diagnose', ['diagnose', 'api-errors']],
      ['fix', ['fix', 'rollback', '--yes']],
      ['update', ['incident', 'update', 'Rolled back the deploy; error rate falling', '--status', 'monitoring']],
      ['escalate', ['incident', 'escalate', '--to', 'Engineering Manager']],
      ['resolve', ['incident', 'resolve', '--summary', 'Rollback restored service']],
    ] as const) {
      steps[name] = await cli(...argv);
    }
  }, 120_000);
  afterAll(async () => sandbox?.close());

  it('resolve confirms service is restored with a triage, and lists the rollback still in effect with its revert', () => {
    expect(steps.open?.code, steps.open?.stderr).toBe(0);
    expect(steps.fix?.code, steps.fix?.stderr).toBe(0);
    const resolve = steps.resolve;
    expect(resolve?.code, resolve?.stderr).toBe(0);
    expect(resolve?.stderr).toMatch(/^service restored: triage found no problem/m);
    expect(resolve?.stdout).toMatch(/24-hour checklist \(due \d{4}-\d\d-\d\d \d\d:\d\d UTC\)/);
    expect(resolve?.stdout).toMatch(/✓ Confirm service is restored: triage at .+ found no problem/);
    expect(resolve?.stdout).toMatch(/☐ Remove temporary mitigations: 1 still in effect\n {6}fix rollback on deployment aegis\/aegis-api.*: aegis-ir fix revert [0-9a-f-]{36}/);
    expect(resolve?.stdout).toContain('$ aegis-ir postmortem INC-');
  });

  it('writes the draft: every step in order with UTC times, the deciding finding, the revert, the due date', async () => {
    const run = await cli('postmortem');
    expect(run.code, run.stderr).toBe(0);
    const md = run.stdout;
    const timeline = md.slice(md.indexOf('## Timeline (UTC)'), md.indexOf('## 24-hour checklist'));
    const order = [
      /\| triage \| triage: SEV2: AEG-3002/,
      /\| triage \| triage \(declaring INC-\d{8}-01\): SEV2: AEG-3002/,
      /\| incident \| declared SEV2/,
      /\| diagnose \| diagnose api-errors: SEV2/,
      /\| fix \| fix rollback: plan on/,
      /\| fix \| fix rollback: confirmed \(--yes\)/,
      /\| fix \| fix rollback: step done:/,
      /\| fix \| fix rollback: verified:/,
      /\| incident \| update \(monitoring\): Rolled back the deploy; error rate falling/,
      /\| incident \| escalated to Engineering Manager/,
      /\| triage \| triage \(confirming service is restored\): no problem found/,
      /\| incident \| resolved: Rollback restored service/,
    ].map((pattern) => timeline.search(pattern));
    expect(order.every((at) => at >= 0), `${order.join(', ')}\n${timeline}`).toBe(true);
    expect(order, timeline).toEqual([...order].sort((a, b) => a - b));
    const times = [...timeline.matchAll(/^\| (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \|/gm)].map((m) => m[1]);
    expect(times).toEqual([...times].sort());
    expect(md).toMatch(/## Root cause\n\n- Deciding finding: AEG-3002 /);
    // The line the incident was declared with is the assessment's own: the endpoints are listed once.
    const impact = md.slice(md.indexOf('## Impact'), md.indexOf('## How it was detected'));
    expect(impact.match(/GET \/api\/v1\/findings, POST \/api\/v1\/scans/g), impact).toHaveLength(1);
    // The same error-log finding on the three pods is one contributing factor.
    const factors = md.slice(md.indexOf('## Contributing factors'), md.indexOf('## What went well'));
    expect(factors.match(/^- AEG-1030 /gm), factors).toHaveLength(1);
    expect(factors).toMatch(/^- AEG-1030 on 3 pods: aegis-api-/m);
    expect(md).toMatch(/- \[ \] Remove temporary mitigations: 1 still in effect\n {2}- `fix rollback` on deployment aegis\/aegis-api, applied .+ UTC:\s+`aegis-ir fix revert [0-9a-f-]{36}`/);
    expect(md).toMatch(/- \[ \] Update monitoring: .+\n {2}- add the `AegisErrorRateMajor` rule of `aegis-ir monitoring rules`/);
    expect(md).not.toContain('oncall');

    const json = await cli('postmortem', '-o', 'json');
    expect(json.code, json.stderr).toBe(0);
    const document = JSON.parse(json.stdout) as Postmortem & { schemaVersion: number };
    expect(document.schemaVersion).toBe(1);
    const resolvedAt = Date.parse(document.times.resolvedAt ?? '');
    expect(Date.parse(document.dueAt ?? '') - resolvedAt).toBe(5 * 24 * 3_600_000);
    expect(Date.parse(document.checklist.dueAt ?? '') - resolvedAt).toBe(24 * 3_600_000);
    expect(md).toContain(`Hold the blameless review by ${document.dueAt?.slice(0, 10)} ${document.dueAt?.slice(11, 19)} UTC`);
    expect(document.rootCause.deciding[0]).toMatch(/^AEG-3002 /);
    expect(document.mitigationsInEffect).toEqual([expect.objectContaining({ remediation: 'rollback', revertCommand: expect.stringMatching(/^aegis-ir fix revert /) })]);
    expect(document.times.mitigatedAt).not.toBeNull();
    // The JSON timeline is the Markdown's, entry for entry (and one more confirming triage: each run adds one after resolution, outside the timeline).
    expect(document.timeline.map((e) => e.source)).toEqual([...timeline.matchAll(/^\| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| (\w+) \|/gm)].map((m) => m[1]));
  });

  it('--out writes the file, --open prints the path of the file it wrote', async () => {
    const out = join(sandbox.dir, 'drafts', 'pm.md');
    const written = await cli('postmortem', '--out', out);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toMatch(/^# Post-mortem: INC-\d{8}-01 /);
    const opened = await cli('postmortem', '--open');
    expect(opened.code, opened.stderr).toBe(0);
    const path = opened.stdout.trim();
    expect(path).toMatch(/\/postmortems\/INC-\d{8}-01\.md$/);
    expect(existsSync(path)).toBe(true);
  });

  it('names a bad incident id in one line with what to run instead', async () => {
    const run = await cli('postmortem', 'INC-20000101-09');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^aegis-ir: no incident INC-20000101-09 in .+\n {2}try: aegis-ir incident list\n$/);
  });
});
