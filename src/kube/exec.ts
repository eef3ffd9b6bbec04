import type { V1Status } from '@kubernetes/client-node';
import { abortReason, untilAborted } from '../core/cancellation.js';
import type { ExecResult } from './port.js';
import type { KubeAnswer, UpgradeOptions } from './transport.js';

/** Largest output kept per stream; health commands print a few lines. */
const EXEC_OUTPUT_LIMIT = 64 * 1024;

/** The remotecommand subprotocols, newest first: both end with a Status on the error channel. */
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;

/** How each way an exec can go wrong is said, by the port that knows the server. */
export interface ExecFailures {
  /** The upgrade was answered with an HTTP status instead (403, 404, 400 container not running…). */
  refused(answer: KubeAnswer): Error;
  /** The connection failed (refused, reset, TLS). */
  broken(error: unknown): Error;
  /** The command could not run (its Status says why). */
  failed(status: V1Status): Error;
  /** The session closed before the exit status arrived. */
  incomplete(): Error;
}

/**
 * Runs a command in a container through the exec API (WebSocket, `v5`/`v4.channel.k8s.io`), as
 * `kubectl exec` does, through the run's shared agent. The signal ends the session at once.
 */
export async function execOverWebSocket(upgrade: UpgradeOptions, signal: AbortSignal, failures: ExecFailures): Promise<ExecResult> {
  if (signal.aborted) throw abortReason(signal, 'cluster');
  const { default: WebSocket } = await import('ws');
  const socket = new WebSocket(upgrade.url, PROTOCOLS, { agent: upgrade.agent, headers: upgrade.headers });
  const session = new Promise<ExecResult>((resolve, reject) => {
    const stdout = boundedText();
    const stderr = boundedText();
    let status: V1Status | undefined;
    socket.on('unexpected-response', (request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        reject(failures.refused({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), body: Buffer.concat(chunks) })),
      );
      response.on('error', (error) => reject(failures.broken(error)));
      request.on('error', () => undefined);
      request.destroy();
    });
    socket.on('message', (data: Buffer) => {
      const channel = data[0];
      const payload = data.subarray(1);
      if (channel === STDOUT) stdout.add(payload);
      else if (channel === STDERR) stderr.add(payload);
      else if (channel === STATUS) {
        try {
          status = JSON.parse(payload.toString('utf8')) as V1Status;
        } catch {
          status = { status: 'Failure', message: 'the exec status was not JSON' };
        }
      }
    });
    socket.on('error', (error) => reject(failures.broken(error)));
    socket.on('close', () => {
      if (!status) return reject(failures.incomplete());
      const exitCode = exitCodeOf(status);
      if (exitCode === undefined) return reject(failures.failed(status));
      resolve({ exitCode, stdout: stdout.text(), stderr: stderr.text() });
    });
  });
  return untilAborted(session, signal, 'cluster', () => socket.terminate());
}

/** The command's exit code from the Status, or undefined when the command could not run at all. */
function exitCodeOf(status: V1Status): number | undefined {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (status.reason === 'NonZeroExitCode' && cause?.message) return Number(cause.message);
  return undefined;
}

function boundedText(): { add(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    add: (chunk) => {
      if (size >= EXEC_OUTPUT_LIMIT) return;
      chunks.push(chunk.subarray(0, EXEC_OUTPUT_LIMIT - size));
      size += chunk.length;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}
