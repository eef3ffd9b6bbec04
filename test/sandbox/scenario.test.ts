import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderLogs } from '../../src/sandbox/kube-simulator/logs.js';
import { jsonPatch, strategicMergePatch } from '../../src/sandbox/kube-simulator/patch.js';
import {
  ScenarioError, listScenarios, loadScenario, parseScenario,
} from '../../src/sandbox/kube-simulator/index.js';
import { stablePodNames, stableSuffix } from '../../src/sandbox/kube-simulator/names.js';
import { humanDuration, resolveTime } from '../../src/sandbox/kube-simulator/time.js';
import { packageRoot } from '../../src/sandbox/package-root.js';

const MINIMAL = `
description: minimal
kubernetes:
  deployments:
    - name: api
      replicas: 1
      container: { name: api }
      revisions: [{ revision: 1, image: "api:1", createdAt: -1d }]
  pods:
    - { deployment: api, revision: 1 }
`;

function problems(yaml: string): string {
  try {
    parseScenario(yaml, 'bad.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as Error).message;
  }
  throw new Error('expected the scenario to be rejected');
}

describe('scenario files', () => {
  it('the package root is the directory of aegis-ir\'s package.json', () => {
    const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { name: string };
    expect(manifest.name).toBe('aegis-ir');
  });

  it('ships the four runbook scenarios, all valid', () => {
    expect(listScenarios()).toEqual(expect.arrayContaining(['api-down', 'crashloop-after-deploy', 'healthy', 'oom']));
    for (const name of listScenarios()) expect(loadScenario(name).document.kubernetes.namespace).toBe('aegis');
  });

  it('a misspelt key is named with its path', () => {
    const message = problems(MINIMAL.replace('replicas: 1', 'replicaz: 1'));
    expect(message).toContain('invalid scenario bad.yaml');
    expect(message).toContain('kubernetes.deployments[0].replicaz: unknown key');
    expect(message).toContain('kubernetes.deployments[0].replicas: missing');
  });

  it('a bad value is reported with its path, the value and what was expected', () => {
    expect(problems(MINIMAL.replace('{ deployment: api, revision: 1 }', '{ deployment: api, revision: 1, phase: Runing }')))
      .toMatch(/kubernetes\.pods\[0\]\.phase: got "Runing"; .*"Running"/);
    expect(problems(MINIMAL.replace('createdAt: -1d', 'createdAt: yesterday')))
      .toContain('kubernetes.deployments[0].revisions[0].createdAt: got "yesterday"; expected a time');
    expect(problems(MINIMAL.replace('revision: 1 }', 'revision: 7 }')))
      .toContain("kubernetes.pods[0].revision: got 7; expected one of deployment api's revisions (1)");
  });

  it('an unknown built-in scenario lists the ones that exist, and names the closest', () => {
    expect(() => loadScenario('nope')).toThrow(/^unknown drill scenario "nope"; expected one of: .*healthy/);
    expect(() => loadScenario('api-dwn')).toThrow(/^unknown drill scenario "api-dwn" \(did you mean "api-down"\?\); expected one of: ai-provider-outage, /);
    expect(() => loadScenario('./no-such-scenario.yaml')).toThrow(/no-such-scenario\.yaml:\n {2}- no such file$/);
  });

  it('gives each of thousands of pods of one ReplicaSet a stable name of its own', () => {
    // The healthy scenario's ReplicaSet: the suffixes of its pods 1786 and 4419 are both "xgzjb".
    const names = stablePodNames('aegis-api-f866594c5', 5000);
    expect(new Set(names).size).toBe(5000);
    expect(names.slice(0, 1786)).toEqual(Array.from({ length: 1786 }, (_, i) => `aegis-api-f866594c5-${stableSuffix(`aegis-api-f866594c5/${i}`)}`));
    expect(names[1786]).toBe('aegis-api-f866594c5-xgzjb');
    expect(names[4419]).not.toBe('aegis-api-f866594c5-xgzjb');
  });

  it('relative times and ages read like Kubernetes', () => {
    const now = new Date('2025-01-01T00:00:00Z');
    expect(resolveTime('-1h30m', now)?.toISOString()).toBe('2024-12-31T22:30:00.000Z');
    expect(resolveTime('soon', now)).toBeUndefined();
    expect([30_000, 330_000, 3 * 3_600_000 + 600_000, 3 * 86_400_000, 9 * 86_400_000].map(humanDuration))
      .toEqual(['30s', '5m30s', '3h10m', '3d', '9d']);
  });
});

describe('log generators', () => {
  const now = new Date('2025-01-01T00:00:00Z');
  const million = [{ kind: 'repeat' as const, from: now.getTime() - 1_000_000_000, everyMs: 1000, count: 1_000_000,
    lines: ['INFO tick {n}', 'ERROR tock {n}'] }];

  it('tails a million-line generator without materialising it', () => {
    const before = process.memoryUsage().heapUsed;
    const out = [...renderLogs(million, { previous: false, timestamps: false, tailLines: 2 }, now)].join('');
    expect(out).toBe('INFO tick 999999\nERROR tock 1000000\n');
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(50 * 1024 * 1024);
  });

  it('honours sinceSeconds, timestamps and limitBytes, and merges sources by time', () => {
    const sources = [...million, { kind: 'line' as const, at: now.getTime() - 1500, line: 'WARN between' }];
    const recent = [...renderLogs(sources, { previous: false, timestamps: true, sinceSeconds: 2 }, now)].join('');
    expect(recent).toBe('2024-12-31T23:59:58.000000000Z INFO tick 999999\n' +
      '2024-12-31T23:59:58.500000000Z WARN between\n2024-12-31T23:59:59.000000000Z ERROR tock 1000000\n');
    expect([...renderLogs(sources, { previous: false, timestamps: false, limitBytes: 8 }, now)].join(''))
      .toBe('INFO tic');
  });
});

describe('patches', () => {
  const deployment = { spec: { replicas: 3, template: { spec: { containers: [
    { name: 'api', image: 'api:1', env: [{ name: 'A', value: '1' }] }, { name: 'proxy', image: 'envoy:1' }] } } } };

  it('strategic merge patches merge containers by name', () => {
    expect(strategicMergePatch(deployment, { spec: { template: { spec: { containers: [
      { name: 'api', image: 'api:2' }, { name: 'proxy', $patch: 'delete' }] } } } })).toEqual({ spec: { replicas: 3,
      template: { spec: { containers: [{ name: 'api', image: 'api:2', env: [{ name: 'A', value: '1' }] }] } } } });
  });

  it('JSON patches apply in order and reject a missing path', () => {
    expect(jsonPatch(deployment, [{ op: 'replace', path: '/spec/replicas', value: 5 },
      { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'x' } },
      { op: 'remove', path: '/spec/template/spec/containers/1' }])).toMatchObject({ spec: { replicas: 5,
      template: { spec: { containers: [{ name: 'api' }, { name: 'x' }] } } } });
    expect(() => jsonPatch(deployment, [{ op: 'replace', path: '/spec/paused', value: true }]))
      .toThrow('doc is missing path: "/spec/paused"');
  });
});
