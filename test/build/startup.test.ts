import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/aegis-ir.js', import.meta.url));
const built = existsSync(CLI);
if (!built) console.warn('skipping the start-up test: dist/aegis-ir.js is not built (npm test builds it first)');

/**
 * The libraries no `--help` may load, each known in the bundle by a name it keeps (the bundle keeps
 * names): they are what makes a command's start slow, and help needs none of them.
 */
const HEAVY: Record<string, string> = {
  yaml: '"YAMLParseError"',
  zod: '"ZodError"',
  '@kubernetes/client-node': '"KubeConfig"',
  pg: 'Client has already been connected',
  axios: '"AxiosError"',
  ora: '"Ora"',
  '@inquirer/prompts': '"CancelPromptError"',
  'pprof-format': '"StringTable"',
};

/**
 * What only a few kubeconfigs need (proxies, the oidc, gcp and azure auth-providers), loaded when such a kubeconfig
 * is used, each known by text of its own code, in the file of node_modules that has it.
 */
const FEW_KUBECONFIGS: Record<string, [file: string, marker: string]> = {
  socks: ['socks/build/client/socksclient.js', 'SocksClient'],
  'ip-address': ['ip-address/dist/ipv6.js', 'Address6'],
  hpagent: ['hpagent/index.js', 'Proxy timeout'],
  'jsonpath-plus': ['jsonpath-plus/dist/index-node-cjs.cjs', 'JavaScript Expression Parser'],
  oauth4webapi: ['oauth4webapi/build/index.js', 'OperationProcessingError'],
  'node-fetch': ['node-fetch/lib/index.js', 'Header pairs must be iterable'],
};
const NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'aegis-ir-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// A module loader hook that writes down every file a run loads.
const hooks = join(dir, 'hooks.mjs');
writeFileSync(
  hooks,
  "import { appendFileSync } from 'node:fs';\nlet out;\nexport function initialize(file) { out = file; }\n" +
    "export async function load(url, context, next) { if (url.startsWith('file:')) appendFileSync(out, `${url}\\n`); return next(url, context); }\n",
);
const register = join(dir, 'register.mjs');

/** The files `aegis-ir ...argv` loaded, for a run that exits with one of `codes`. */
function loaded(argv: string[], codes: number[] = [0]): string[] {
  const out = join(dir, `${argv.join('-').replace(/[^\w.-]/g, '_') || 'root'}.txt`);
  writeFileSync(out, '');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)}, { data: ${JSON.stringify(out)} });\n`);
  const run = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, CLI, ...argv], { env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: '1' }, encoding: 'utf8' });
  if (!codes.includes(run.status ?? -1)) throw new Error(`aegis-ir ${argv.join(' ')} exited ${run.status}: ${run.stderr}`);
  return readFileSync(out, 'utf8').split('\n').filter(Boolean).map((url) => fileURLToPath(url));
}

describe.skipIf(!built)('--help', () => {
  const help = built ? execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }) : '';
  const commands = [...help.slice(help.indexOf('Commands:')).split('\n\n')[0]!.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!);

  it.each([[[]], ...commands.map((name) => [[name]]), [['fix', 'db-connections']], [['incident', 'open']]])(
    'of %j loads none of the heavy libraries, from the help table or from commander',
    (argv: string[]) => {
      // With a flag more (--no-color), the help is commander's, built from the command modules.
      for (const words of [[...argv, '--help'], [...argv, '--help', '--no-color']]) {
        const files = loaded(words);
        expect(files.length).toBeGreaterThan(1);
        const libraries = Object.entries(HEAVY)
          .filter(([, marker]) => files.some((file) => readFileSync(file, 'utf8').includes(marker)))
          .map(([library]) => library);
        expect({ words, libraries }).toEqual({ words, libraries: [] });
      }
    },
  );

  it('prints --help and --version from the help table, without loading commander', () => {
    const commander = '"CommanderError"';
    for (const argv of [['--help'], ['fix', 'db-connections', '--help'], ['help', 'incident'], ['--version']]) {
      expect({ argv, commander: loaded(argv).some((file) => readFileSync(file, 'utf8').includes(commander)) }).toEqual({ argv, commander: false });
    }
    expect(loaded(['--help', '--no-color']).some((file) => readFileSync(file, 'utf8').includes(commander))).toBe(true);
  });

  it('a fix loads the remediation it names and none of the others', () => {
    const list = JSON.parse(execFileSync(process.execPath, [CLI, 'fix', '--list', '-o', 'json'], { encoding: 'utf8' })) as { remediations: Array<{ id: string; summary: string }> };
    expect(list.remediations).toHaveLength(10);
    // The run stops at the database it cannot reach, after the remediation was loaded and its command parsed.
    const files = loaded(['fix', 'db-connections', '--dry-run', '--database-url', 'postgres://u:p@127.0.0.1:1/x'], [4]);
    const text = files.map((file) => readFileSync(file, 'utf8')).join('\n');
    const present = list.remediations.filter((r) => text.includes(JSON.stringify(r.summary).slice(1, -1))).map((r) => r.id);
    expect(present).toEqual(['db-connections']);
    // With no config file to read, nor a kubeconfig to name a broken key in, the YAML parser is not loaded.
    expect(text).not.toContain(HEAVY.yaml);
  });

  it('knows each library by its marker in the bundle, so the test above can fail', () => {
    const all = [...new Set([...loaded(['drill', '--list']), ...loaded(['version'])])];
    const text = all.map((file) => readFileSync(file, 'utf8')).join('\n');
    // A drill reads its scenarios with yaml and checks them with zod.
    expect(text).toContain(HEAVY.yaml);
    expect(text).toContain(HEAVY.zod);
  });
});

describe.skipIf(!built)('triage', () => {
  it('loads client-node without what only a few kubeconfigs need', () => {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    // The API server is not there: triage stops once client-node has read the kubeconfig and made its request.
    const text = loaded(['triage', '--kubeconfig', kubeconfig, '-o', 'json'], [4])
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    expect(text).toContain(HEAVY['@kubernetes/client-node']);
    const libraries = Object.entries(FEW_KUBECONFIGS).map(([library, [file, marker]]) => ({
      library,
      inLibrary: readFileSync(join(NODE_MODULES, file), 'utf8').includes(marker),
      loaded: text.includes(marker),
    }));
    expect(libraries).toEqual(Object.keys(FEW_KUBECONFIGS).map((library) => ({ library, inLibrary: true, loaded: false })));
  });
});
