import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket, WebSocketServer } from 'ws';
import type { PodRuntime } from './runtime.js';
import type { ScenarioExecResult } from './scenario/schema.js';
import { ApiError, badRequest } from './status.js';
import type { KubeObject } from './store.js';
import { requestedContainer } from './workloads.js';
import { parseDuration } from '../../core/duration.js';

/** The remotecommand subprotocols served, newest first: both carry a Status document on the error channel. */
const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;

const SHELLS = new Set(['sh', 'bash', '/bin/sh', '/bin/bash']);

/** The negotiated subprotocol: the first one the client offers that the simulator speaks. */
export function chooseExecProtocol(offered: string | undefined): string | undefined {
  const protocols = (offered ?? '').split(',').map((p) => p.trim());
  return protocols.find((p) => (EXEC_PROTOCOLS as readonly string[]).includes(p));
}

/**
 * Checks an exec request against the pod as the kubelet would: container named or unambiguous, present, running.
 * Returns the container name; throws the apiserver's error otherwise.
 */
export function execContainer(pod: KubeObject, requested: string | null): string {
  const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    throw badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  }
  const container = requestedContainer(pod, requested);
  const statuses = ((pod['status'] as { containerStatuses?: { name: string; state?: { running?: unknown } }[] })
    .containerStatuses ?? []);
  if (statuses.find((s) => s.name === container)?.state?.running === undefined) {
    throw new ApiError(400, 'BadRequest', `unable to upgrade connection: container not found ("${container}")`);
  }
  return container;
}

/** What a command prints and returns in the simulated container. */
function run(command: string[], runtime: PodRuntime, pod: KubeObject): ScenarioExecResult {
  const known = runtime.exec[command.join(' ')];
  if (known !== undefined) return known;
  const [program = '', ...args] = command;
  const viaShell = SHELLS.has(program) && args[0] === '-c' && args[1] !== undefined;
  if (viaShell) {
    const script = args[1] ?? '';
    const scripted = runtime.exec[script.trim()];
    if (scripted !== undefined) return scripted;
    return builtin(script.trim().split(/\s+/), pod) ??
      { exitCode: 127, stdout: '', stderr: `sh: 1: ${script.trim().split(/\s+/)[0] ?? ''}: not found\n` };
  }
  return builtin(command, pod) ?? {
    // What containerd answers for a binary that is not in the image: the runc message, and 126.
    exitCode: 126,
    stdout: `OCI runtime exec failed: exec failed: unable to start container process: exec: "${program}": ` +
      'executable file not found in $PATH: unknown\r\n',
    stderr: '',
  };
}

/** The few coreutils every image has, so ad-hoc probes behave. */
function builtin(command: string[], pod: KubeObject): ScenarioExecResult | undefined {
  const [program, ...args] = command;
  switch (program) {
    case 'true': return { exitCode: 0, stdout: '', stderr: '' };
    case 'false': return { exitCode: 1, stdout: '', stderr: '' };
    case 'echo': return { exitCode: 0, stdout: `${args.join(' ')}\n`, stderr: '' };
    case 'hostname': return { exitCode: 0, stdout: `${pod.metadata.name}\n`, stderr: '' };
    default: return undefined;
  }
}

function frame(channel: number, data: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]);
}

/** The channel-3 Status kubectl turns into its exit code. */
function exitStatus(command: string[], exitCode: number): Record<string, unknown> {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], ` +
      `exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/**
 * Completes the WebSocket upgrade and plays the command's answer: stdout on channel 1, stderr on channel 2 (or on
 * channel 1 with a TTY), then the exit Status on channel 3, then a normal close.
 */
export function serveExec(server: WebSocketServer, request: IncomingMessage, socket: Duplex, head: Buffer,
  exec: { pod: KubeObject; runtime: PodRuntime; query: URLSearchParams }): void {
  const command = exec.query.getAll('command');
  const tty = exec.query.get('tty') === 'true' || exec.query.get('tty') === '1';
  const wants = (stream: string): boolean => exec.query.get(stream) === 'true' || exec.query.get(stream) === '1';
  server.handleUpgrade(request, socket, head, (ws: WebSocket) => {
    const container = execContainer(exec.pod, exec.query.get('container'));
    // A sidecar's image lacks the app's binaries: only the app container answers the scenario's commands.
    const scripted = exec.runtime.execContainer === undefined || exec.runtime.execContainer === container;
    const result = run(command, scripted ? exec.runtime : { ...exec.runtime, exec: {} }, exec.pod);
    // A client that leaves (or the simulator closing) ends the command's wait, which would otherwise keep a timer,
    // and with it the process, alive for the scenario's whole delay.
    const gone = new AbortController();
    ws.on('close', () => gone.abort());
    // A malformed frame from the client must end this session, not (as an unhandled 'error') the process.
    ws.on('error', () => ws.terminate());
    void (async () => {
      const delay = result.delay === undefined ? 0 : parseDuration(result.delay) ?? 0;
      if (delay > 0) await sleep(delay, undefined, { signal: gone.signal }).catch(() => undefined);
      if (gone.signal.aborted) return;
      if (wants('stdout') && result.stdout !== '') ws.send(frame(STDOUT, result.stdout));
      if (result.stderr !== '') {
        if (tty && wants('stdout')) ws.send(frame(STDOUT, result.stderr));
        else if (wants('stderr')) ws.send(frame(STDERR, result.stderr));
      }
      ws.send(frame(ERROR, JSON.stringify(exitStatus(command, result.exitCode))));
      ws.close(1000);
    })();
  });
}
