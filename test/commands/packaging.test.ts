import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlMissing } from '../sandbox/simulator-helpers.js';
import { simulatedCluster, type SimulatedCluster } from '../helpers/simulator.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const built = existsSync(join(ROOT, 'dist', 'aegis-ir.js'));
if (!built) console.warn('skipping the package tests: dist/ is not built (npm test builds it first)');
if (kubectlMissing !== undefined) console.warn(kubectlMissing);

/** What `npm pack` puts in the tarball, as npm reports it. */
interface PackResult {
  filename: string;
  size: number;
  files: Array<{ path: string }>;
}

describe.skipIf(!built)('the npm package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-pack-'));
  let pack: PackResult;
  let installed: string;
  let cluster: SimulatedCluster;
  beforeAll(async () => {
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
    pack = (JSON.parse(stdout) as PackResult[])[0] as PackResult;
    // The tarball unpacked as npm would install it, with the dependencies it declares beside it.
    installed = join(dir, 'package');
    await run('tar', ['-xzf', join(dir, pack.filename), '-C', dir]);
    symlinkSync(join(ROOT, 'node_modules'), join(installed, 'node_modules'));
    cluster = await simulatedCluster('healthy');
  });
  afterAll(async () => {
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ships only what runs: the bundle, its data files, the man page and the runbook', () => {
    const paths = pack.files.map((f) => f.path);
    for (const path of paths) expect(path).toMatch(/^(dist\/|runbooks\/|package\.json$|README\.md$|LICENSE$)/);
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    expect(paths).toEqual(
      expect.arrayContaining(['dist/aegis-ir.js', 'dist/aegis-ir.1', 'dist/help.json', 'dist/sandbox/scenarios/oom.yaml', 'dist/sandbox/kube-simulator/tls/ca.crt', 'runbooks/incident-response.md']),
    );
    // A guard against shipping the tree again (it was 28.5 MB); the README states the real size.
    expect(pack.size).toBeLessThan(2_000_000);
  });

  it('npm install -g puts both commands on PATH and the manual page where man looks', async () => {
    // npm links a manual page only when `man` is a list; a string installs none.
    const prefix = join(dir, 'prefix');
    await run('npm', ['install', '-g', '--prefix', prefix, '--ignore-scripts', '--offline', '--no-audit', '--no-fund', installed]);
    const linked = ['bin/aegis-ir', 'bin/kubectl-aegis', 'share/man/man1/aegis-ir.1'].filter((path) => existsSync(join(prefix, path)));
    expect(linked).toEqual(['bin/aegis-ir', 'bin/kubectl-aegis', 'share/man/man1/aegis-ir.1']);
    const { stdout } = await run(join(prefix, 'bin', 'aegis-ir'), ['version'], { env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
    expect(stdout).toMatch(/^aegis-ir 0\.1\.0/);
    // Through the link, --help finds the help the build wrote beside the bundle.
    const help = await run(join(prefix, 'bin', 'aegis-ir'), ['fix', '--help'], { env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
    expect(help.stdout).toBe((JSON.parse(readFileSync(join(installed, 'dist', 'help.json'), 'utf8')) as Record<string, string>).fix);
  });

  it('runs a drill and the runbook from the unpacked package, with no source tree', async () => {
    const cli = join(installed, 'dist', 'aegis-ir.js');
    const env = { PATH: process.env.PATH, HOME: '/nonexistent' };
    const drill = JSON.parse((await run(process.execPath, [cli, 'drill', 'healthy', '-o', 'json'], { env })).stdout) as { passed: boolean };
    expect(drill.passed).toBe(true);
    const { stdout } = await run(process.execPath, [cli, 'runbook', 'escalation'], { env });
    expect(stdout).toContain('Escalation Matrix');
  });

  it.skipIf(kubectlMissing !== undefined)('is found by kubectl as the plugin "aegis" and runs as kubectl aegis', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    // What npm install -g links for the package's second bin.
    symlinkSync(join(installed, 'dist', 'aegis-ir.js'), join(bin, 'kubectl-aegis'));
    const env = { PATH: `${bin}${delimiter}${process.env.PATH}`, HOME: '/nonexistent', KUBECONFIG: cluster.kubeconfig };
    const list = await run('kubectl', ['plugin', 'list'], { env });
    expect(list.stdout).toContain(join(bin, 'kubectl-aegis'));
    const triage = await run('kubectl', ['aegis', 'triage', '-o', 'json'], { env });
    expect(JSON.parse(triage.stdout)).toMatchObject({ command: 'triage', severity: null });
  });
});
