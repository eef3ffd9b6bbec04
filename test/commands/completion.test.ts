import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCaptured } from '../helpers/cli.js';

const CLI = fileURLToPath(new URL('../../dist/aegis-ir.js', import.meta.url));
const built = existsSync(CLI);
if (!built) console.warn('skipping the completion tests that run the built CLI: dist/aegis-ir.js is not built');

describe('aegis-ir completion bash, sourced in bash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-completion-'));
  const script = join(dir, 'aegis-ir.bash');
  const bin = join(dir, 'bin');
  const kubeconfig = join(dir, 'kubeconfig');
  beforeAll(async () => {
    const run = await runCaptured(['completion', 'bash']);
    expect(run.code).toBe(0);
    writeFileSync(script, run.stdout);
    // The script asks the aegis-ir on PATH for the kubeconfig's contexts, as it would after npm install -g.
    mkdirSync(bin);
    if (built) symlinkSync(CLI, join(bin, 'aegis-ir'));
    writeFileSync(
      kubeconfig,
      stringify({
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [{ name: 'u', user: {} }],
        contexts: ['prod-eu', 'staging'].map((name) => ({ name, context: { cluster: 'c', user: 'u', namespace: `${name}-ns` } })),
        'current-context': 'staging',
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What <TAB> offers after `line` (the last word is the one being completed). */
  function complete(line: string): string[] {
    const words = line.split(' ');
    const program = `source ${JSON.stringify(script)}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _aegis_ir; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = spawnSync('bash', ['--norc', '-c', program], {
      encoding: 'utf8',
      env: { PATH: `${bin}${delimiter}${process.env.PATH}`, HOME: '/nonexistent', KUBECONFIG: kubeconfig },
    });
    expect(result.stderr).toBe('');
    return result.stdout.split('\n').filter(Boolean);
  }

  it('completes fix ro to rollback', () => {
    expect(complete('aegis-ir fix ro')).toEqual(['rollback']);
  });

  it('completes fix revert and its --list, and the AI timeout of fix ai-provider', () => {
    expect(complete('aegis-ir fix rev')).toEqual(['revert']);
    expect(complete('aegis-ir fix revert --li')).toEqual(['--list']);
    expect(complete('aegis-ir fix ai-provider --ai')).toEqual(['--ai-timeout']);
  });

  it('completes commands, diagnose sections, drill scenarios and runbook sections', () => {
    expect(complete('aegis-ir tr')).toEqual(['triage']);
    expect(complete('aegis-ir diagnose db')).toEqual(['db-connections']);
    expect(complete('aegis-ir drill crash')).toEqual(['crashloop-after-deploy']);
    expect(complete('aegis-ir runbook escal')).toEqual(['escalation-matrix']);
    expect(complete('kubectl-aegis -n x fix memory')).toEqual(['memory-limit']);
  });

  it("completes a command's own flags and the global ones, and flag values", () => {
    expect(complete('aegis-ir fix rollback --to')).toEqual(['--to-revision']);
    expect(complete('aegis-ir triage --fail')).toEqual(['--fail-on']);
    expect(complete('aegis-ir triage -o ju')).toEqual(['junit']);
    expect(complete('aegis-ir triage --fail-on SEV')).toEqual(['SEV1', 'SEV2', 'SEV3', 'SEV4']);
  });

  it.skipIf(!built)("completes --context and --namespace from the kubeconfig's contexts", () => {
    expect(complete('aegis-ir --context ')).toEqual(['prod-eu', 'staging']);
    expect(complete('aegis-ir triage -n prod')).toEqual(['prod-eu-ns']);
  });

  it('writes a script for each of zsh, fish and powershell, from the same tree', async () => {
    for (const shell of ['zsh', 'fish', 'powershell']) {
      const run = await runCaptured(['completion', shell]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('rollback');
      expect(run.stdout).toContain('crashloop-after-deploy');
    }
    const bad = await runCaptured(['completion', 'tcsh']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown shell "tcsh"; expected one of: bash, zsh, fish, powershell');
  });
});

describe('the man page', () => {
  it.skipIf(!built)('documents every command from its help, and roff reads it without a warning', () => {
    const page = join(CLI, '..', 'aegis-ir.1');
    const text = execFileSync('groff', ['-man', '-Tutf8', '-ww', page], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    for (const command of ['aegis-ir triage', 'aegis-ir fix rollback', 'aegis-ir drill', 'aegis-ir completion']) expect(text).toContain(command);
    const warnings = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', page], { encoding: 'utf8' });
    expect(warnings.stderr).toBe('');
  });
});

describe('aegis-ir version', () => {
  it('prints the versions of aegis-ir, node and the client libraries', async () => {
    const { version, dependencies } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const run = await runCaptured(['version', '-o', 'json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      schemaVersion: 1,
      command: 'version',
      version,
      node: process.versions.node,
      clients: { '@kubernetes/client-node': dependencies['@kubernetes/client-node'], pg: dependencies.pg, axios: dependencies.axios },
    });
    const text = await runCaptured(['version']);
    expect(text.stdout.split('\n')[0]).toBe(`aegis-ir ${version}`);
  });
});
