import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const TLS = fileURLToPath(new URL('../../src/sandbox/kube-simulator/tls/', import.meta.url));
// The sandbox's own certificate, for 127.0.0.1, which its CA signed.
const SERVER_TLS = { key: readFileSync(join(TLS, 'server.key')), cert: readFileSync(join(TLS, 'server.crt')) };
const built = existsSync(join(DIST, 'aegis-ir.js'));
if (!built) console.warn("skipping the bundle's Kubernetes credentials test: dist/aegis-ir.js is not built (npm test builds it first)");

/**
 * Each way a kubeconfig can name its credentials, through the shipped bundle, where what only a few kubeconfigs
 * need (proxies, the oidc, gcp and azure auth-providers) is loaded when such a kubeconfig is used.
 */
let home: string;
const servers: Array<{ close(): unknown }> = [];
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'aegis-ir-kube-auth-'));
});
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
  rmSync(home, { recursive: true, force: true });
});

async function listening(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** What a request brought, after an API server refused it as one refuses credentials it does not take. */
interface Seen {
  url: string;
  authorization?: string;
  body: string;
}

function refusing(seen: Seen[], answer?: (request: Seen) => string | undefined): RequestListener {
  return (request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const entry = { url: request.url ?? '', authorization: request.headers.authorization, body };
      seen.push(entry);
      const json = answer?.(entry);
      response.writeHead(json ? 200 : 401, { 'content-type': 'application/json' });
      response.end(json ?? JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 }));
    });
  };
}

/** An API server over plain HTTP, which client-node talks to when TLS verification is declared off. */
async function apiServer(seen: Seen[]): Promise<Record<string, unknown>> {
  const port = await listening(createHttpServer(refusing(seen)));
  return { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true };
}

/** The bundle's triage with a kubeconfig of this cluster and user; its exit code, once it has exited. */
async function triage(cluster: Record<string, unknown>, user: Record<string, unknown>, env: Record<string, string> = {}): Promise<number | null> {
  const kubeconfig = join(home, 'kubeconfig');
  // JSON is YAML too.
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [join(DIST, 'aegis-ir.js'), 'triage', '--kubeconfig', kubeconfig, '-o', 'json'], { env: { PATH: process.env.PATH, HOME: home, ...env } });
    child.on('exit', resolve);
  });
}

/** A command that prints `output` as JSON, for an exec plugin or an auth-provider's cmd-path. */
function printing(output: unknown): string {
  const script = join(home, `print-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(script, `process.stdout.write(${JSON.stringify(JSON.stringify(output))});\n`);
  return script;
}

/** A JWT with these claims and a signature no one checks (an ID token from the token endpoint is trusted by TLS). */
function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}

describe.skipIf(!built)("the bundle's Kubernetes credentials", () => {
  // Each: what it is, the kubeconfig's user (made in the test's own home), the token the API server is sent.
  const bearers: Array<[string, () => Record<string, unknown>, string]> = [
    ['a token', () => ({ token: 'plain-token' }), 'plain-token'],
    [
      'an exec plugin',
      () => ({
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: process.execPath,
          args: [printing({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'exec-token' } })],
          interactiveMode: 'Never',
        },
      }),
      'exec-token',
    ],
    ...(['gcp', 'azure'] as const).map(
      (name) =>
        [
          `the ${name} auth-provider, whose command's output is read with JSONPath`,
          () => ({
            'auth-provider': {
              name,
              config: {
                'cmd-path': process.execPath,
                'cmd-args': printing({ credential: { access_token: `${name}-token`, token_expiry: '2999-01-01T00:00:00Z' } }),
                'token-key': '{.credential.access_token}',
                'expiry-key': '{.credential.token_expiry}',
              },
            },
          }),
          `${name}-token`,
        ] as [string, () => Record<string, unknown>, string],
    ),
  ];
  it.each(bearers)('sends %s as the bearer token', async (_, user, token) => {
    const seen: Seen[] = [];
    expect(await triage(await apiServer(seen), user())).toBe(4);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen.map((request) => request.authorization))).toEqual(new Set([`Bearer ${token}`]));
  });

  it("refreshes the oidc auth-provider's expired id-token at the issuer, and sends the new one", async () => {
    const issued: string[] = [];
    const idp: Seen[] = [];
    const issuerServer = createHttpsServer(
      SERVER_TLS,
      refusing(idp, ({ url, body }): string | undefined => {
        if (url === '/.well-known/openid-configuration') {
          return JSON.stringify({ issuer, token_endpoint: `${issuer}/token`, authorization_endpoint: `${issuer}/auth`, jwks_uri: `${issuer}/jwks`, response_types_supported: ['code'] });
        }
        if (url !== '/token' || new URLSearchParams(body).get('refresh_token') !== 'the-refresh-token') return undefined;
        const now = Math.floor(Date.now() / 1000);
        const idToken = jwt({ iss: issuer, aud: 'aegis-ir', sub: 'someone', iat: now, exp: now + 3600 });
        issued.push(idToken);
        return JSON.stringify({ access_token: 'unused', token_type: 'Bearer', id_token: idToken, refresh_token: 'the-next-refresh-token', expires_in: 3600 });
      }),
    );
    const issuer: string = `https://127.0.0.1:${await listening(issuerServer)}`;
    const seen: Seen[] = [];
    const code = await triage(
      await apiServer(seen),
      { 'auth-provider': { name: 'oidc', config: { 'client-id': 'aegis-ir', 'id-token': jwt({ exp: 1 }), 'refresh-token': 'the-refresh-token', 'idp-issuer-url': issuer } } },
      { NODE_EXTRA_CA_CERTS: join(TLS, 'ca.crt') },
    );
    expect(code).toBe(4);
    expect(idp.some((request) => request.url === '/token' && new URLSearchParams(request.body).get('grant_type') === 'refresh_token')).toBe(true);
    expect(issued.length).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((request) => issued.some((idToken) => request.authorization === `Bearer ${idToken}`))).toBe(true);
  });

  it('presents a client certificate to an API server that asks for one', async () => {
    const subjects: string[] = [];
    const server = createHttpsServer({ ...SERVER_TLS, requestCert: true, rejectUnauthorized: false }, (request, response) => {
      subjects.push(String((request.socket as TLSSocket).getPeerCertificate().subject?.CN));
      response.writeHead(401).end();
    });
    const port = await listening(server);
    const code = await triage(
      { server: `https://127.0.0.1:${port}`, 'certificate-authority': join(TLS, 'ca.crt') },
      { 'client-certificate': join(TLS, 'server.crt'), 'client-key': join(TLS, 'server.key') },
    );
    expect(code).toBe(4);
    expect(subjects.length).toBeGreaterThan(0);
    expect(new Set(subjects)).toEqual(new Set(['aegis-ir sandbox API server']));
  });

  it("tunnels through an HTTP proxy-url's proxy", async () => {
    const seen: Seen[] = [];
    const cluster = await apiServer(seen);
    const tunnels: string[] = [];
    const proxy = createHttpServer().on('connect', (request: IncomingMessage, client: Socket, head: Buffer) => {
      tunnels.push(request.url ?? '');
      const [host, port] = (request.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    const code = await triage({ ...cluster, 'proxy-url': `http://127.0.0.1:${await listening(proxy)}` }, { token: 'proxied-token' });
    expect(code).toBe(4);
    expect(tunnels.length).toBeGreaterThan(0);
    expect(new Set(tunnels)).toEqual(new Set([new URL(String(cluster.server)).host]));
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen.map((request) => request.authorization))).toEqual(new Set(['Bearer proxied-token']));
  });

  it("speaks SOCKS to a socks5:// proxy-url's proxy", async () => {
    // A SOCKS5 proxy that takes the client's greeting and accepts none of its methods.
    const greetings: Buffer[] = [];
    const proxy = createTcpServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', (data) => {
        greetings.push(data);
        socket.end(Buffer.from([5, 0xff]));
      });
    });
    const port = await listening(proxy);
    expect(await triage({ server: 'https://127.0.0.1:1', 'proxy-url': `socks5://127.0.0.1:${port}` }, { token: 't' })).toBe(4);
    expect(greetings.length).toBeGreaterThan(0);
    // The first byte of a SOCKS5 greeting is the protocol's version.
    expect(greetings[0]?.[0]).toBe(5);
  });
});
