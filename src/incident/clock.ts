import { parseDuration } from '../core/duration.js';
import { SEVERITY_CLASSES } from '../core/severity.js';
import type { Incident } from './record.js';

/** SEV4's "1 business day", as a clock can hold it. */
const BUSINESS_DAY_MS = 24 * 3_600_000;

/** One level of the escalation matrix for this incident: who, when, and how to reach them. */
export interface EscalationLevel {
  role: string;
  /** When the matrix brings this level in (startedAt + its offset). */
  at: string;
  contact: string | null;
}

/** Where an incident stands against the runbook's clocks, at one instant. */
export interface IncidentClock {
  elapsedMs: number;
  responseTime: string;
  /** Declared (opened, paged, first update posted) within the SEV's response time of its start. */
  responseMet: boolean;
  respondedAfterMs: number;
  /** Levels the matrix has brought in by now, and any an operator escalated to ahead of time. */
  engaged: EscalationLevel[];
  /** The next level of the matrix and when it comes; null when every level is engaged. */
  next: EscalationLevel | null;
  update: UpdateCadence;
}

/** The update cadence: SEV1–2 update every `incident.updateEvery`; SEV3–4 have none. */
export interface UpdateCadence {
  required: boolean;
  /** When the latest recorded update was given (the initial post at open counts). */
  lastAt: string | null;
  dueAt: string | null;
  overdue: boolean;
}

/** The settings the clocks read. */
export interface ClockSettings {
  updateEveryMs: number;
  contacts: Record<string, string>;
}

/**
 * Reads the runbook's Escalation Matrix and update cadence off the record: which levels are engaged
 * after the time elapsed since `startedAt`, which comes next and when, whether the response time
 * was met and whether an update is due. Pure: the same record and instant give the same answer.
 */
export function incidentClock(incident: Incident, now: Date, settings: ClockSettings): IncidentClock {
  const started = Date.parse(incident.startedAt);
  const end = incident.resolvedAt ? Date.parse(incident.resolvedAt) : now.getTime();
  const elapsedMs = Math.max(0, end - started);
  const sevClass = SEVERITY_CLASSES[incident.severity];
  const levels = matrixLevels(incident, settings);
  const manual = new Set(incident.escalations.filter((e) => e.reason === 'manual').map((e) => e.to));
  const reached = levels.filter((l) => Date.parse(l.at) <= started + elapsedMs || manual.has(l.role));
  const lastReached = levels.findLastIndex((l) => reached.includes(l));
  const respondedAfterMs = Math.max(0, Date.parse(incident.openedAt) - started);
  const outside = [...manual].filter((role) => !levels.some((l) => l.role === role));
  return {
    elapsedMs,
    responseTime: sevClass.responseTime,
    responseMet: respondedAfterMs <= (parseDuration(sevClass.responseTime) ?? BUSINESS_DAY_MS),
    respondedAfterMs,
    engaged: [
      ...reached,
      ...outside.map((role) => ({ role, at: escalatedAt(incident, role), contact: settings.contacts[role] ?? null })),
    ],
    next: levels[lastReached + 1] ?? null,
    update: cadence(incident, now, settings.updateEveryMs),
  };
}

/** The matrix's levels for the incident's SEV, with their times and contacts. */
export function matrixLevels(incident: Incident, settings: Pick<ClockSettings, 'contacts'>): EscalationLevel[] {
  const started = Date.parse(incident.startedAt);
  return SEVERITY_CLASSES[incident.severity].escalation.map((step) => ({
    role: step.to,
    at: new Date(started + (parseDuration(step.after) ?? 0)).toISOString(),
    contact: settings.contacts[step.to] ?? null,
  }));
}

/** Levels the matrix has brought in by `now` that the record has not escalated to yet (what `watch` does on time). */
export function dueEscalations(incident: Incident, now: Date, settings: Pick<ClockSettings, 'contacts'>): EscalationLevel[] {
  if (incident.resolvedAt) return [];
  const done = new Set(incident.escalations.map((e) => e.to));
  return matrixLevels(incident, settings).filter((l) => Date.parse(l.at) <= now.getTime() && !done.has(l.role));
}

/**
 * The cadence runs from the latest update recorded, at the time it says it was given: an update
 * recorded with `--at 20m` (given on a call, written down later) restarts it from 20 minutes ago.
 */
function cadence(incident: Incident, now: Date, everyMs: number): UpdateCadence {
  const last = incident.updates.at(-1)?.at ?? null;
  const required = (incident.severity === 'SEV1' || incident.severity === 'SEV2') && incident.status !== 'resolved';
  if (!required) return { required, lastAt: last, dueAt: null, overdue: false };
  const due = Date.parse(last ?? incident.openedAt) + everyMs;
  return { required, lastAt: last, dueAt: new Date(due).toISOString(), overdue: now.getTime() > due };
}

function escalatedAt(incident: Incident, role: string): string {
  return incident.escalations.find((e) => e.to === role)?.at ?? incident.openedAt;
}
