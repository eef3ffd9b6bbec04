import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFIG_MAP } from '../../src/sandbox/kube-simulator/resources.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { runCaptured } from '../helpers/cli.js';

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function drill(name: string) {
  sandbox = await startSandbox(name);
  const env: Record<string, string> = { HOME: sandbox.dir, AEGIS_IR_AUDIT_LOG: join(sandbox.dir, 'audit.jsonl'), ...sandbox.env };
  const configYaml = () => ((sandbox?.kube.store.get(CONFIG_MAP, 'aegis', 'aegis-api-config')?.['data'] ?? {}) as Record<string, string>)['config.yaml'] ?? '';
  return { env, configYaml, run: (...argv: string[]) => runCaptured(argv, { env }) };
}

interface Report {
  severity: string | null;
  severityReason: string;
  findings: Array<{ code: string; next: string[] }>;
  checks: Array<{ id: string; status: string; error: string | null }>;
}

describe('the ai-provider-outage drill, played through', () => {
  it('diagnoses SEV2 naming the Claude API and its incident, falls back to OpenAI, and ends healthy', async () => {
    const { run, configYaml, env } = await drill('ai-provider-outage');
    const diagnosis = await run('diagnose', 'ai-provider', '-o', 'json');
    expect(diagnosis.code).toBe(3);
    const report = JSON.parse(diagnosis.stdout) as Report;
    expect(report.severity).toBe('SEV2');
    expect(report.severityReason).toContain('Claude API (api.anthropic.com) major outage');
    expect(report.severityReason).toContain('incident "Elevated errors on Claude API"');
    expect(report.findings.flatMap((f) => f.next)).toContain('aegis-ir fix ai-provider --enable-fallback openai --dry-run');

    const before = configYaml();
    const dryRun = await run('fix', 'ai-provider', '--enable-fallback', 'openai', '--dry-run', '-o', 'json');
    expect(dryRun.code).toBe(0);
    const plan = (JSON.parse(dryRun.stdout) as { plan: { steps: Array<{ action: string }> } }).plan;
    const diff = plan.steps[0]?.action.split('\n').filter((l) => /^[-+] /.test(l) || /^[-+]\s/.test(l)) ?? [];
    expect(diff).toEqual(['-  fallback_provider: ""   # empty: no fallback', '+  fallback_provider: "openai"   # empty: no fallback']);
    expect(plan.steps[1]?.action).toContain('kubectl.kubernetes.io/restartedAt');
    expect(configYaml()).toBe(before);

    const refused = await run('fix', 'ai-provider', '--enable-fallback', 'anthropic', '--yes');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('anthropic is itself down');

    const applied = await run('fix', 'ai-provider', '--enable-fallback', 'openai', '--yes', '-o', 'json');
    expect(applied.code).toBe(0);
    expect(configYaml()).toBe(before.replace('fallback_provider: ""', 'fallback_provider: "openai"'));
    const triage = await run('triage', '-o', 'json');
    expect(triage.code).toBe(0);
    expect((JSON.parse(triage.stdout) as Report).severity).toBeNull();

    const audit = readFileSync(env.AEGIS_IR_AUDIT_LOG ?? '', 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; replaced?: { kind: string; data: Record<string, { before: string; after: string }> } });
    const replaced = audit.find((r) => r.event === 'outcome' && r.replaced)?.replaced;
    expect(replaced?.kind).toBe('configmap');
    expect(replaced?.data['config.yaml']?.before).toBe(before);

    // Post-incident: the fallback is listed as a mitigation still in effect, and reverting it gives back the file byte for byte.
    const listed = await run('fix', 'revert', '--list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('fix ai-provider');
    expect(listed.stdout).toContain('enable the AI fallback provider openai in configmap/aegis-api-config');
    const reverted = await run('fix', 'revert', '--yes', '-o', 'json');
    expect(reverted.code).toBe(0);
    expect(configYaml()).toBe(before);
    expect((await run('fix', 'revert', '--list')).stdout).toMatch(/^No mitigation is still in effect/);
    // Anthropic is still down in the drill: without the fallback, triage is back at SEV2.
    expect((JSON.parse((await run('triage', '-o', 'json')).stdout) as Report).severity).toBe('SEV2');
  });

  it('takes a status page answering HTML as unknown: the check errors with one line, the verdict is incomplete', async () => {
    const { run, env } = await drill('ai-provider-outage');
    const html = `${env.AEGIS_IR_STATUS_PAGES?.split(',')[0]?.split('=')[1]?.replace(/\/anthropic$/, '')}/html`;
    const result = await run('diagnose', 'ai-provider', '--status-page', `anthropic=${html}`, '--fail-on', 'never', '-o', 'json');
    expect(result.code).toBe(4);
    const check = (JSON.parse(result.stdout) as Report).checks.find((c) => c.id === 'status-page-anthropic');
    expect(check?.status).toBe('errored');
    expect(check?.error).toMatch(/^anthropic's status page answered an HTML page, not JSON \(/);
  });
});

describe('fix ai-provider --timeout: the app\'s AI timeout after the remediation\'s name, the run\'s deadline before it', () => {
  const aiTimeoutDiff = (stdout: string) =>
    ((JSON.parse(stdout) as { plan: { steps: Array<{ action: string }> } }).plan.steps[0]?.action ?? '').split('\n').filter((l) => /^[-+] /.test(l));

  it('sets the AI timeout, in either spelling, with the global --timeout before the command as the deadline', async () => {
    const { run, env } = await drill('ai-provider-outage');
    const expected = ['-  timeout: 30s', '+  timeout: 60s'];
    for (const argv of [
      ['fix', 'ai-provider', '--timeout', '60s'],
      ['fix', 'ai-provider', '--timeout=60s'],
      ['--timeout', '20s', 'fix', 'ai-provider', '--timeout', '60s'],
      ['fix', 'ai-provider', '--ai-timeout', '60s'],
    ]) {
      const dryRun = await run(...argv, '--dry-run', '-o', 'json');
      expect(dryRun.code, argv.join(' ')).toBe(0);
      expect(aiTimeoutDiff(dryRun.stdout), argv.join(' ')).toEqual(expected);
    }
    // The deadline is the global flag's: one far too short for any call to answer stops the run there.
    const cut = await run('--timeout', '1ms', 'fix', 'ai-provider', '--timeout', '60s', '--dry-run');
    expect(cut.code).toBe(4);
    const fromEnv = await runCaptured(['fix', 'ai-provider', '--timeout', '60s', '--dry-run'], { env: { ...env, AEGIS_IR_TIMEOUT: '1ms' } });
    expect(fromEnv.code).toBe(4);
  });

  it('says which --timeout a bad value was for', async () => {
    const { run } = await drill('ai-provider-outage');
    const ai = await run('fix', 'ai-provider', '--timeout', 'soon', '--dry-run');
    expect(ai.code).toBe(2);
    expect(ai.stderr).toContain("--timeout soon (after ai-provider: the app's AI request timeout) is not valid");
    expect(ai.stderr).toContain("the run's own deadline goes before the command: aegis-ir --timeout 30s fix ai-provider --timeout 60s");
    const global = await run('--timeout', 'soon', 'fix', 'ai-provider', '--timeout', '60s', '--dry-run');
    expect(global.code).toBe(2);
    expect(global.stderr).toMatch(/^aegis-ir: --timeout: "soon" is not valid; expected a duration/);
    const help = await run('fix', 'ai-provider', '--help');
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('--ai-timeout <duration> the app\'s AI request timeout, e.g. 60s (for a provider slow but working); --timeout after "ai-provider" is this too.');
  });
});

describe('the ai-rate-limits drill', () => {
  it('is SEV3 from the rate-limit lines and names the cache as the remediation', async () => {
    const { run } = await drill('ai-rate-limits');
    const diagnosis = await run('diagnose', 'ai-provider', '-o', 'json');
    const report = JSON.parse(diagnosis.stdout) as Report;
    expect(report.severity).toBe('SEV3');
    expect(report.findings.flatMap((f) => f.next)).toContain('aegis-ir fix ai-provider --enable-cache --dry-run');
    expect((await run('fix', 'ai-provider', '--enable-cache', '--yes')).code).toBe(0);
    const after = JSON.parse((await run('diagnose', 'ai-provider', '-o', 'json')).stdout) as Report;
    expect(after.findings.map((f) => f.code)).not.toContain('AEG-4020');
  });
});
