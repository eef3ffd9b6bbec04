import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { neutralise } from '../../src/core/neutralise.js';
import { loadScenario, startKubeSimulator } from '../../src/sandbox/kube-simulator/index.js';
import { runCaptured } from '../helpers/cli.js';

const HOSTILE = 'ERROR upstream said \u001b]0;pwned\u0007\u001b[2J and \u202egnp.exe';

describe('text from the cluster on a terminal', () => {
  it('shows control and escape sequences escaped, never raw', () => {
    expect(neutralise(HOSTILE)).toBe('ERROR upstream said \\x1b]0;pwned\\x07\\x1b[2J and \\u202egnp.exe');
    expect(neutralise('two\nlines\tand a tab')).toBe('two\nlines\tand a tab');
  });

  it('a log line that sets the title and clears the screen prints escaped in the findings, and stays exact in JSON', async () => {
    const scenario = loadScenario('healthy');
    const document = structuredClone(scenario.document) as unknown as { kubernetes: { pods: Array<{ containers: Array<{ logs: { current: unknown[] } }> }> } };
    const logs = document.kubernetes.pods[0]?.containers[0]?.logs;
    if (!logs) throw new Error('the healthy scenario has a log');
    logs.current = [...logs.current, { at: '-1m', line: HOSTILE }];
    const sim = await startKubeSimulator({ scenario: { ...scenario, document: document as unknown as typeof scenario.document } });
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'aegis-hostile-')), 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig);
    try {
      const text = await runCaptured(['triage', '--kubeconfig', kubeconfig, '-v']);
      expect(text.stdout).toContain('\\x1b]0;pwned\\x07\\x1b[2J');
      expect(text.stdout + text.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
      const json = await runCaptured(['triage', '--kubeconfig', kubeconfig, '-o', 'json']);
      expect(JSON.stringify(JSON.parse(json.stdout))).toContain('\\u001b]0;pwned\\u0007\\u001b[2J');
    } finally {
      await sim.close();
    }
  });
});

describe('text from the cluster in a fix plan', () => {
  it('a change-cause that sets the title and clears the screen prints escaped in the plan, and stays exact in JSON', async () => {
    const scenario = loadScenario('crashloop-after-deploy');
    const document = structuredClone(scenario.document) as unknown as { kubernetes: { deployments: Array<{ revisions: Array<{ changeCause?: string }> }> } };
    const revisions = document.kubernetes.deployments[0]?.revisions ?? [];
    const previous = revisions[revisions.length - 2];
    if (!previous) throw new Error('the scenario has a previous revision');
    previous.changeCause = HOSTILE;
    const sim = await startKubeSimulator({ scenario: { ...scenario, document: document as unknown as typeof scenario.document } });
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'aegis-hostile-plan-')), 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig);
    const env = { HOME: '/nonexistent', AEGIS_IR_AUDIT_LOG: join(mkdtempSync(join(tmpdir(), 'aegis-hostile-audit-')), 'audit.jsonl') };
    try {
      const text = await runCaptured(['fix', 'rollback', '--dry-run', '--kubeconfig', kubeconfig, '-n', 'aegis'], { env });
      expect(text.code).toBe(0);
      expect(text.stdout + text.stderr).toContain('\\x1b]0;pwned\\x07\\x1b[2J');
      expect(text.stdout + text.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
      const json = await runCaptured(['fix', 'rollback', '--dry-run', '--kubeconfig', kubeconfig, '-n', 'aegis', '-o', 'json'], { env });
      expect(JSON.stringify(JSON.parse(json.stdout))).toContain('\\u001b]0;pwned\\u0007\\u001b[2J');
    } finally {
      await sim.close();
    }
  });
});
