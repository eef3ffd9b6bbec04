import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlMissing } from '../sandbox/simulator-helpers.js';
import { runCaptured } from '../helpers/cli.js';
import { simulatedCluster, type SimulatedCluster } from '../helpers/simulator.js';

const run = promisify(execFile);

/** A next command as a shell would split it: words up to a `#` comment. */
function words(command: string): string[] {
  return command.replace(/\s+#.*$/, '').split(/\s+/).filter(Boolean);
}

describe('next steps, pasted as printed', () => {
  let cluster: SimulatedCluster;
  const state = mkdtempSync(join(tmpdir(), 'aegis-next-'));
  const env = () => ({ HOME: '/nonexistent', XDG_STATE_HOME: state, AEGIS_IR_AUDIT_LOG: join(state, 'audit.jsonl'), PATH: process.env.PATH });
  beforeAll(async () => {
    cluster = await simulatedCluster('crashloop-after-deploy');
  });
  afterAll(async () => {
    await cluster.close();
    rmSync(state, { recursive: true, force: true });
  });

  it('keep the flags that chose the targets and run without a usage error', async () => {
    const triage = await runCaptured(['--kubeconfig', cluster.kubeconfig, '-n', 'aegis', 'triage'], { env: env() });
    const section = triage.stdout.slice(triage.stdout.indexOf('\nNext\n'));
    const next = [...section.matchAll(/^ {2}\$ (.+)$/gm)].map((m) => m[1] as string);
    expect(next.length).toBeGreaterThan(2);
    for (const command of next) {
      const argv = words(command);
      if (argv[0] === 'aegis-ir') {
        expect(command).toContain(`--kubeconfig ${cluster.kubeconfig} -n aegis`);
        const result = await runCaptured(argv.slice(1), { env: env() });
        expect({ command, code: result.code, stderr: result.stderr }).not.toMatchObject({ code: 2 });
        expect(result.stderr).not.toMatch(/unknown option|error: /);
      } else {
        expect(argv[0]).toBe('kubectl');
        expect(command).toContain(' -n aegis');
        if (kubectlMissing !== undefined) continue;
        // As printed: a command that waits for the crash-looping rollout to end would be killed by the timeout.
        const result = await run('kubectl', argv.slice(1), { timeout: 20_000 }).catch((error: { stderr: string; killed?: boolean }) => error);
        expect(result.stderr).not.toMatch(/unknown (flag|command)|Usage:/);
        expect({ command, killed: 'killed' in result && result.killed }).toEqual({ command, killed: false });
      }
    }
  });

  it('a Deployment that is not there: Next names the one that is, and the fix says which flag picks it', async () => {
    const triage = await runCaptured(['--kubeconfig', cluster.kubeconfig, 'triage', '--deployment', 'nope'], { env: env() });
    const next = [...triage.stdout.matchAll(/^ {2}\$ (.+)$/gm)].map((m) => m[1] as string);
    const other = `aegis-ir triage --deployment aegis-api --kubeconfig ${cluster.kubeconfig}`;
    expect(next).toContain(other);
    const rerun = await runCaptured(words(other).slice(1), { env: env() });
    expect(JSON.stringify(rerun.stdout)).toContain('CrashLoopBackOff');
    expect(rerun.code).toBe(3);
    const fix = await runCaptured(['--kubeconfig', cluster.kubeconfig, 'fix', 'rollback', '--dry-run', '--deployment', 'nope'], { env: env() });
    expect(fix.stderr).toBe(
      'aegis-ir: deployment/nope does not exist in namespace aegis; deployments there: aegis-api\n  try: pass --deployment aegis-api (or set app.deployment in the config)\n',
    );
    expect(fix.code).toBe(2);
  });

  it('no Deployment at all in the namespace: Next lists them everywhere, with a kubectl that runs as printed', async () => {
    const triage = await runCaptured(['--kubeconfig', cluster.kubeconfig, '-n', 'default', 'triage'], { env: env() });
    const next = [...triage.stdout.matchAll(/^ {2}\$ (kubectl .+)$/gm)].map((m) => m[1] as string);
    expect(next).toEqual([`kubectl get deployments --all-namespaces --kubeconfig ${cluster.kubeconfig}   # then aegis-ir triage with -n and --deployment of the one that runs Aegis`]);
    expect(triage.stdout).not.toMatch(/<\w+>/);
    if (kubectlMissing !== undefined) return;
    const listed = await run('kubectl', words(next[0] as string).slice(1));
    expect(listed.stdout).toMatch(/^aegis +aegis-api /m);
  });

  it('never suggest the command that is running', async () => {
    const diagnose = await runCaptured(['--kubeconfig', cluster.kubeconfig, 'diagnose', 'api-errors', '-o', 'json'], { env: env() });
    const next = (JSON.parse(diagnose.stdout) as { findings: { next: string[] }[] }).findings.flatMap((f) => f.next);
    expect(next.filter((n) => n.startsWith('aegis-ir diagnose api-errors'))).toEqual([]);
  });

  it('a dry run ends with the exact command that applies it', async () => {
    const dry = await runCaptured(['fix', 'scale', '--by', '1', '--dry-run', '--kubeconfig', cluster.kubeconfig], { env: env() });
    expect(dry.code).toBe(0);
    expect(dry.stdout.trimEnd().split('\n').at(-1)).toBe(`To apply this plan: aegis-ir fix scale --by 1 --kubeconfig ${cluster.kubeconfig}`);
    // The plan reads at 80 columns; only lines holding a command to paste, and a diff's lines, stay whole.
    expect(dry.stdout.split('\n').filter((line) => line.length > 80 && !/aegis-ir |kubectl |^\s+[-+] /.test(line))).toEqual([]);
    expect(dry.stdout).toContain('  raise horizontalpodautoscaler/aegis-api minReplicas from 3 to 5, scaling\n      deployment/aegis-api from 4 to 5\n');
  });

  it('the confirmation restates the plan, its size and the cap; --yes says it skipped the typed name', async () => {
    const asked: string[] = [];
    const prompter = { confirm: () => Promise.reject(new Error('not asked')), input: async (message: string) => (asked.push(message), 'not-aegis') };
    const cancelled = await runCaptured(['fix', 'scale', '--by', '1', '--kubeconfig', cluster.kubeconfig], { env: env(), prompter, stdinIsTTY: true });
    expect(cancelled.code).toBe(130);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(/^deployment aegis\/aegis-api is production\. raise .+ \(\d+ of at most 20 replicas\)\. Type "aegis" to apply:$/);
    const yes = await runCaptured(['fix', 'scale', '--by', '1', '--yes', '--rollout-timeout', '1s', '--kubeconfig', cluster.kubeconfig, '-o', 'json'], { env: env() });
    expect(yes.stderr).toContain('--yes: not asking to type "aegis" to confirm (deployment aegis/aegis-api is production)');
  });
});

describe('a next step whose target is not configured', () => {
  it('is left out of Next and said what it needs instead', async () => {
    const drill = await runCaptured(['drill', 'api-down']);
    const next = drill.stdout.slice(drill.stdout.indexOf('\nNext\n'), drill.stdout.indexOf('\nNot available here\n'));
    expect(next).not.toContain('db-connections');
    expect(drill.stdout).toContain(
      'Not available here\n  aegis-ir diagnose db-connections\n      needs a database: pass --database-url URL, set DATABASE_URL (or the PG*\n          variables) or database.url\n',
    );
    const document = JSON.parse((await runCaptured(['drill', 'api-down', '-o', 'json'])).stdout) as { triage: { findings: { next: string[] }[] } };
    expect(document.triage.findings.flatMap((f) => f.next)).not.toContain('aegis-ir diagnose db-connections');
  });
});
