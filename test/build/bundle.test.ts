import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const built = existsSync(join(DIST, 'aegis-ir.js'));
if (!built) console.warn('skipping the bundle test: dist/aegis-ir.js is not built (npm test builds it first)');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('the shipped bundle', () => {
  it.skipIf(!built)('carries no source maps and is minified, so a start reads as little as it can', () => {
    const all = files(DIST);
    expect(all.filter((f) => f.endsWith('.map'))).toEqual([]);
    const scripts = all.filter((f) => f.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(1);
    for (const file of scripts) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toContain('sourceMappingURL');
      // esbuild marks each module's code with its path only when it does not minify.
      expect(text, file).not.toMatch(/^\/\/ (src|node_modules)\//m);
    }
  });

  it.skipIf(!built)("still speaks SOCKS to a kubeconfig's socks5:// proxy, whose agent the bundle loads only when one is made", async () => {
    // A SOCKS5 proxy that takes the client's greeting and accepts none of its methods.
    const greetings: Buffer[] = [];
    const proxy = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', (data) => {
        greetings.push(data);
        socket.end(Buffer.from([5, 0xff]));
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as { port: number };
    const home = mkdtempSync(join(tmpdir(), 'aegis-ir-socks-'));
    try {
      const kubeconfig = join(home, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1", proxy-url: "socks5://127.0.0.1:' + port + '" } }]',
          'users: [{ name: u, user: { token: t } }]',
          'contexts: [{ name: x, context: { cluster: c, user: u } }]',
          'current-context: x',
        ].join('\n'),
      );
      const code = await new Promise<number | null>((resolve) => {
        const child = execFile(process.execPath, [join(DIST, 'aegis-ir.js'), 'triage', '--kubeconfig', kubeconfig, '-o', 'json'], { env: { PATH: process.env.PATH, HOME: home } });
        child.on('exit', resolve);
      });
      expect(code).toBe(4);
      expect(greetings.length).toBeGreaterThan(0);
      // The first byte of a SOCKS5 greeting is the protocol's version.
      expect(greetings[0]?.[0]).toBe(5);
    } finally {
      proxy.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
