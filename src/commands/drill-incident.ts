import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BufferSink, type TextSink } from '../core/io.js';
import type { Runtime } from '../core/runtime.js';
import { paint } from '../render/style.js';
import type { Sandbox } from '../sandbox/sandbox.js';

/** One step of the communication flow as the drill played it. */
export interface IncidentStep {
  command: string;
  exitCode: number;
  /** The command's JSON document with `-o json`, else null (its text went to stdout). */
  document: unknown;
}

/** The simulated Slack, PagerDuty and Statuspage of a drill, and the environment that points aegis-ir at them. */
export interface CommunicationSandbox {
  env: Record<string, string>;
  /** The same environment as a shell file (mode 0600), so the tokens are sourced rather than printed. */
  envFile: string;
  close(): Promise<void>;
}

/**
 * Starts Slack (Web API), PagerDuty Events and Statuspage simulators for `drill --with-incident`.
 * Each prints what it received on stderr, so a game day sees the messages go out; Slack answers
 * the first post 429 with Retry-After, as a busy workspace does, so the retry is seen too.
 */
export async function startCommunication(sandbox: Sandbox, stderr: TextSink, color: boolean): Promise<CommunicationSandbox> {
  const [{ startSlackSimulator }, { startPagerDutySimulator }, { startStatuspageManageSimulator }] = await Promise.all([
    import('../sandbox/slack-simulator/server.js'),
    import('../sandbox/pagerduty-simulator/server.js'),
    import('../sandbox/statuspage-manage-simulator/server.js'),
  ]);
  const c = paint(color);
  const print = (line: string) => stderr.write(`${c.magenta('  ⇢')} ${c.dim(line)}\n`);
  const [slack, pagerduty, statuspage] = await Promise.all([startSlackSimulator(print), startPagerDutySimulator(print), startStatuspageManageSimulator(print)]);
  slack.fail(/chat\.postMessage/, { status: 429, body: JSON.stringify({ ok: false, error: 'ratelimited' }), headers: { 'Retry-After': '1', 'Content-Type': 'application/json' } });
  const config = join(sandbox.dir, 'incident-config.yaml');
  writeFileSync(
    config,
    [
      `namespace: ${sandbox.namespace}`,
      'notify:',
      `  slack: { apiUrl: "${slack.apiUrl}" }`,
      `  pagerduty: { eventsUrl: "${pagerduty.eventsUrl}" }`,
      `  statuspage: { apiUrl: "${statuspage.apiUrl}", pageId: "${statuspage.pageId}", components: [aegis-api] }`,
      '',
    ].join('\n'),
  );
  const env = {
      AEGIS_IR_CONFIG: config,
      // The drill's incidents and audit log stay in the sandbox: never mixed with the operator's own.
      XDG_STATE_HOME: join(sandbox.dir, 'state'),
      AEGIS_IR_AUDIT_LOG: join(sandbox.dir, 'audit.jsonl'),
      AEGIS_IR_SLACK_TOKEN: slack.token,
      AEGIS_IR_PAGERDUTY_ROUTING_KEY: pagerduty.routingKey,
      AEGIS_IR_STATUSPAGE_API_KEY: statuspage.apiKey,
  };
  const envFile = join(sandbox.dir, 'incident.env');
  writeFileSync(envFile, Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
  return {
    env,
    envFile,
    close: async () => {
      await Promise.all([slack.close(), pagerduty.close(), statuspage.close()]);
    },
  };
}

/**
 * The runbook's Communication, played against the sandbox: declare from triage (customer-facing),
 * post an update, send the drafted status-page text, show the status, resolve. Each command is the
 * real CLI run in-process, printed as a person would type it.
 */
export async function playCommunication(runtime: Runtime, env: Record<string, string | undefined>, json: boolean): Promise<IncidentStep[]> {
  const { runCli } = await import('../cli.js');
  const c = paint(!json && runtime.stdoutIsTTY);
  const steps: IncidentStep[] = [];
  const script = [
    ['incident', 'open', '--from-triage', '--customer-facing', '--commander', 'drill-commander'],
    ['incident', 'update', 'Cause identified; rolling back the deploy', '--status', 'identified'],
    ['incident', 'update', '--public', 'We are investigating degraded service; the next update follows within 15 minutes.'],
    ['incident', 'status'],
    ['incident', 'resolve', '--summary', 'Service restored; monitoring'],
  ];
  for (const argv of script) {
    const out = new BufferSink();
    if (!json) runtime.stdout.write(`\n${c.bold(`$ aegis-ir ${argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`)}\n`);
    const exitCode = await runCli([...argv, ...(json ? ['-o', 'json'] : [])], { ...runtime, env, stdout: json ? out : runtime.stdout });
    steps.push({ command: `aegis-ir ${argv.join(' ')}`, exitCode, document: json ? JSON.parse(out.text() || 'null') : null });
    if (exitCode !== 0) break;
  }
  return steps;
}
