import type { CoreV1Event } from '@kubernetes/client-node';
import { formatDuration } from '../../core/duration.js';
import { makeFinding, type Finding } from '../../core/findings.js';
import { defineCheck, type EvaluationEnv } from '../check.js';
import { workloadSnapshot } from '../kubernetes/snapshot.js';
import { MEMORY_FINDINGS as F } from './findings.js';
import { livePods } from './memory-usage.js';

/** The kubelet and kernel-monitor events that tell an OOM story, per container. */
const OOM_EVENT_REASONS = new Set(['OOMKilling', 'Killing', 'BackOff']);

/** One container's restarts and how its last instance ended. */
export interface ContainerRestarts {
  container: string;
  restartCount: number;
  waitingReason: string | null;
  lastTerminated: { reason: string; exitCode: number; finishedAt: string | null } | null;
}

/** An event, reduced to what the OOM history reads. */
export interface OomEvent {
  reason: string;
  /** The pod (or node) it is about. */
  object: string;
  container: string | null;
  count: number;
  lastSeen: string | null;
  message: string;
}

/** Evidence of the oom-history check. */
export interface OomHistoryEvidence {
  pods: Array<{ name: string; ready: boolean; node: string | null; containers: ContainerRestarts[] }>;
  events: OomEvent[];
  /** `SystemOOM` events of the pods' nodes. */
  nodeEvents: OomEvent[];
}

function eventOf(e: CoreV1Event): OomEvent {
  const last = e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp;
  const fieldPath = e.involvedObject?.fieldPath ?? '';
  return {
    reason: e.reason ?? '',
    object: e.involvedObject?.name ?? '',
    container: /spec\.containers\{(.+)\}/.exec(fieldPath)?.[1] ?? null,
    count: e.count ?? 1,
    lastSeen: last ? new Date(last).toISOString() : null,
    message: e.message ?? '',
  };
}

/**
 * OOM history (`kubectl describe pod`, `kubectl get events`): each container's OOMKilled last
 * state (crash-looping containers included), restart count, and the `OOMKilling`, `Killing` and
 * `BackOff` events of the app's pods, plus `SystemOOM` on their nodes. SPEC: OOMKilled recently on
 * some pods while others serve is SEV3, on half or more SEV2.
 */
export const oomHistoryCheck = defineCheck<OomHistoryEvidence>({
  id: 'oom-history',
  title: 'OOMKills and restarts',
  target: 'cluster',
  async collect(ctx) {
    const kube = await ctx.kube();
    const snapshot = await workloadSnapshot(ctx);
    const { events } = snapshot;
    const live = livePods(snapshot.pods);
    const names = new Set(live.map((p) => p.metadata?.name ?? ''));
    const nodes = new Set(live.flatMap((p) => (p.spec?.nodeName ? [p.spec.nodeName] : [])));
    const nodeEvents = nodes.size ? await kube.listNodeEvents('involvedObject.kind=Node,reason=SystemOOM', ctx.signal) : [];
    return {
      pods: live
        .map((p) => ({
          name: p.metadata?.name ?? '',
          ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
          node: p.spec?.nodeName ?? null,
          containers: (p.status?.containerStatuses ?? []).map((s) => {
            const last = s.lastState?.terminated;
            return {
              container: s.name,
              restartCount: s.restartCount,
              waitingReason: s.state?.waiting?.reason ?? null,
              lastTerminated: last ? { reason: last.reason ?? 'Unknown', exitCode: last.exitCode, finishedAt: last.finishedAt ? new Date(last.finishedAt).toISOString() : null } : null,
            };
          }),
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      events: events
        .filter((e) => e.involvedObject?.kind === 'Pod' && names.has(e.involvedObject.name ?? '') && OOM_EVENT_REASONS.has(e.reason ?? ''))
        .map(eventOf),
      nodeEvents: nodeEvents.filter((e) => nodes.has(e.involvedObject?.name ?? '')).map(eventOf),
    };
  },
  evaluate: evaluateOomHistory,
});

/** Pure evaluation of {@link OomHistoryEvidence} over `triage.restartWindow`. */
export function evaluateOomHistory(evidence: OomHistoryEvidence, env: EvaluationEnv): Finding[] {
  const check = 'oom-history';
  const windowMs = env.config.triage.restartWindow;
  const recent = (at: string | null) => at !== null && env.now.getTime() - Date.parse(at) <= windowMs;
  const oomPods = evidence.pods.flatMap((pod) => {
    const killed = pod.containers.filter((c) => c.lastTerminated?.reason === 'OOMKilled' && (recent(c.lastTerminated.finishedAt) || c.waitingReason === 'CrashLoopBackOff'));
    if (!killed.length) return [];
    const events = evidence.events.filter((e) => e.object === pod.name && recent(e.lastSeen));
    return [{ pod, killed, events }];
  });
  const findings: Finding[] = [];
  const total = evidence.pods.length;
  if (oomPods.length) {
    const most = oomPods.length / Math.max(total, 1) >= env.config.thresholds.crashLoopShare;
    const latest = oomPods.flatMap((o) => o.killed.map((c) => c.lastTerminated?.finishedAt ?? '')).sort().at(-1) ?? null;
    findings.push(
      makeFinding(most ? F.oomMostPods : F.oomSomePods, {
        check,
        params: {
          oom: oomPods.length,
          total,
          window: formatDuration(windowMs),
          pods: oomPods
            .map(({ pod, killed }) => `${pod.name} ${killed.map((c) => `${c.container} ${c.lastTerminated?.finishedAt ? `${formatDuration(env.now.getTime() - Date.parse(c.lastTerminated.finishedAt))} ago` : ''}, ${c.restartCount} restart(s)${c.waitingReason ? `, ${c.waitingReason}` : ''}`).join('; ')}`)
            .join('; '),
        },
        resource: oomPods.length === 1 ? `pod/${oomPods[0]?.pod.name}` : null,
        evidence: {
          pods: oomPods.map(({ pod, killed, events }) => ({
            pod: pod.name,
            ready: pod.ready,
            containers: killed.map((c) => ({ container: c.container, restarts: c.restartCount, waiting: c.waitingReason, lastState: c.lastTerminated })),
            events: events.map((e) => `${e.reason}${e.container ? ` (${e.container})` : ''} ×${e.count}: ${e.message}`),
          })),
        },
        next: ['aegis-ir fix restart --oom --dry-run', 'aegis-ir fix memory-limit --factor 1.5 --dry-run'],
        since: latest,
      }),
    );
  }
  for (const e of evidence.nodeEvents) {
    if (!recent(e.lastSeen)) continue;
    findings.push(
      makeFinding(F.nodeOom, {
        check,
        params: { node: e.object, ago: formatDuration(env.now.getTime() - Date.parse(e.lastSeen ?? '')), message: e.message },
        resource: `node/${e.object}`,
        evidence: { count: e.count, lastSeen: e.lastSeen },
      }),
    );
  }
  return findings;
}
