import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig, type Cluster, type Context as KubeContext, type User } from '@kubernetes/client-node';
import { UsageError } from '../core/errors.js';
import { messageLine } from '../core/neutralise.js';
import type { KubeTarget } from './port.js';

/**
 * A `KubeConfig` loaded by {@link loadKubeConfig}. Only this class is taken from client-node, by name, so the
 * bundle leaves out its generated API classes (14 MB).
 */
export async function readKubeConfig(target: KubeTarget, env: Record<string, string | undefined>): Promise<KubeConfig> {
  const kc = new KubeConfig();
  await loadKubeConfig(kc, target, env);
  return kc;
}

/**
 * Loads the kubeconfig the way kubectl does: `--kubeconfig` (or the config file's `kubeconfig`) is one
 * file that must exist; `KUBECONFIG` is a list of files merged in order, the first file to define a
 * cluster, user or context (or a current-context) winning, missing files skipped and a broken one named.
 * With neither, `~/.kube/config`, else the in-cluster service account.
 */
export async function loadKubeConfig(kc: KubeConfig, target: KubeTarget, env: Record<string, string | undefined>): Promise<void> {
  const home = env.HOME;
  const fallback = home && existsSync(join(home, '.kube', 'config')) ? join(home, '.kube', 'config') : undefined;
  const files = typeof target.kubeconfig === 'string' ? [target.kubeconfig] : (target.kubeconfig ?? (fallback ? [fallback] : []));
  if (typeof target.kubeconfig === 'string' && !existsSync(target.kubeconfig)) {
    throw new UsageError(`kubeconfig ${target.kubeconfig} does not exist`, 'pass --kubeconfig FILE or set KUBECONFIG');
  }
  const present = files.filter((file) => existsSync(file));
  if (present.length) {
    await mergeInto(kc, present);
    if (kc.getContexts().length === 0) {
      const which = present.length === 1 ? `kubeconfig ${present[0]} defines` : `the KUBECONFIG files (${present.join(', ')}) define`;
      throw new UsageError(`${which} no context; is it a kubeconfig?`, `check it with: kubectl config view`);
    }
  } else if (files.length) {
    throw new UsageError(`none of the KUBECONFIG files exist: ${files.join(', ')}`, 'set KUBECONFIG to existing files, or pass --kubeconfig FILE');
  } else if (env.KUBERNETES_SERVICE_HOST) {
    kc.loadFromCluster();
  } else {
    throw new UsageError(
      'no kubeconfig found (no --kubeconfig, KUBECONFIG or ~/.kube/config)',
      'pass --kubeconfig FILE, or try the built-in sandbox: aegis-ir drill',
    );
  }
  if (target.context) {
    if (!kc.getContexts().some((c) => c.name === target.context)) {
      throw new UsageError(
        `context "${target.context}" is not in the kubeconfig; it has: ${kc.getContexts().map((c) => c.name).join(', ')}`,
        'list them with: kubectl config get-contexts',
      );
    }
    kc.setCurrentContext(target.context);
  }
}

/** Reads each file (relative paths in it resolved against its directory) and keeps the first of every name. */
async function mergeInto(kc: KubeConfig, files: string[]): Promise<void> {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, KubeContext>();
  let currentContext = '';
  for (const file of files) {
    try {
      // Each load replaces what kc holds; the maps keep what earlier files defined.
      kc.loadFromFile(file);
    } catch (error) {
      throw new UsageError(`kubeconfig ${file} could not be read: ${await readError(error, file)}`, `check it with: kubectl --kubeconfig ${file} config view`);
    }
    for (const c of kc.getClusters()) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of kc.getUsers()) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of kc.getContexts()) if (!contexts.has(c.name)) contexts.set(c.name, c);
    currentContext ||= kc.getCurrentContext() ?? '';
  }
  kc.loadFromOptions({ clusters: [...clusters.values()], users: [...users.values()], contexts: [...contexts.values()], currentContext });
}

/** The parser's reason, line and key, never the file's text: a kubeconfig holds tokens and keys. */
async function readError(error: unknown, file: string): Promise<string> {
  const yamlError = error as { reason?: string; mark?: { line?: number; position?: number } };
  if (yamlError.reason) {
    const line = yamlError.mark?.line;
    let key: string | null = null;
    try {
      const text = readFileSync(file, 'utf8');
      // The YAML parser that finds the key loads only for a kubeconfig that is broken.
      const { keyPathBefore, offsetOfLine } = await import('../core/yaml-location.js');
      key = keyPathBefore(text, yamlError.mark?.position ?? (line === undefined ? text.length : offsetOfLine(text, line + 1)));
    } catch {
      // Unreadable now: the line alone has to do.
    }
    return `not valid YAML${line !== undefined ? ` at line ${line + 1}` : ''}${key ? ` (at or after key ${key})` : ''}: ${yamlError.reason}`;
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code) return code;
  // An empty file, or YAML that is not a mapping: client-node reads a field of nothing.
  if (error instanceof TypeError) return 'it is empty or not a kubeconfig (expected a mapping with clusters, users and contexts)';
  // client-node names the missing field ("clusters[0].name is missing"), or js-yaml a shape it refused.
  return messageLine((error as Error).message);
}
