import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as z from 'zod';
import { GuardError, UsageError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import type { KubeScope, Plan } from './remediation.js';

/**
 * A reviewed plan kept in a file (`fix … --dry-run --save-plan FILE`), so that `fix … --plan FILE --yes`
 * applies exactly what was reviewed or refuses: it names what it acts on (target, cluster, context), who
 * saved it and when, and stops being valid at `expiresAt`. The plan's `identity` is what the plan derived
 * again at apply must equal; the steps are kept to show what differs when it does not.
 */
const planFileSchema = z.object({
  kind: z.literal('aegis-ir/plan'),
  schemaVersion: z.literal(1),
  remediation: z.string(),
  target: z.string(),
  cluster: z.string().nullable(),
  context: z.string().nullable(),
  operator: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  /** The remediation's own flags the plan was derived with (`{ by: "1" }`), used again at apply. */
  options: z.record(z.string(), z.unknown()),
  plan: z.object({
    summary: z.string(),
    size: z.number(),
    steps: z.array(z.object({ description: z.string(), action: z.string() })),
    identity: z.unknown(),
    notes: z.array(z.string()),
  }),
});

export type PlanFile = z.infer<typeof planFileSchema>;

/** The plan file for `plan`, saved now and valid for `validMs`. */
export function planFile(
  fields: { remediation: string; target: string; scope: KubeScope | undefined; operator: string; options: Record<string, unknown> },
  plan: Plan,
  now: Date,
  validMs: number,
): PlanFile {
  return {
    kind: 'aegis-ir/plan',
    schemaVersion: 1,
    remediation: fields.remediation,
    target: fields.target,
    cluster: fields.scope?.cluster ?? null,
    context: fields.scope?.context ?? null,
    operator: fields.operator,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + validMs).toISOString(),
    options: fields.options,
    plan: {
      summary: plan.summary,
      size: plan.size,
      steps: plan.steps.map((s) => ({ description: s.description, action: s.action })),
      identity: plan.identity,
      notes: plan.notes,
    },
  };
}

/** Writes the plan file atomically, readable by its owner only (it names sessions, users and objects). */
export function writePlanFile(path: string, file: PlanFile, redact: (text: string) => string): void {
  const partial = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(partial, `${redact(JSON.stringify(file, null, 2))}\n`, { mode: 0o600 });
    renameSync(partial, path);
  } catch (error) {
    throw new UsageError(`cannot write the plan file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 'pass --save-plan a path in a writable directory');
  }
}

/** Reads a plan file; a usage error (exit 2) naming the file when it is missing or not a plan. */
export function readPlanFile(path: string): PlanFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the plan file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 'save one with: aegis-ir fix <remediation> --dry-run --save-plan FILE');
  }
  let parsed: ReturnType<typeof planFileSchema.safeParse>;
  try {
    parsed = planFileSchema.safeParse(JSON.parse(text));
  } catch {
    throw new UsageError(`the plan file ${path} is not JSON`, 'save one with: aegis-ir fix <remediation> --dry-run --save-plan FILE');
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(
      `the plan file ${path} is not an aegis-ir plan (${issue?.path.join('.') || 'document'}: ${issue?.message ?? 'invalid'})`,
      'save one with: aegis-ir fix <remediation> --dry-run --save-plan FILE',
    );
  }
  return parsed.data;
}

/**
 * Refuses (exit 5) a plan file that does not apply to this run: saved for another target, cluster or
 * context, or expired. Nothing has been read from the target yet.
 */
export function checkPlanFile(path: string, file: PlanFile, target: string, scope: KubeScope | undefined, now: Date): void {
  const here = { target, cluster: scope?.cluster ?? null, context: scope?.context ?? null };
  for (const key of ['target', 'cluster', 'context'] as const) {
    if (file[key] !== here[key]) {
      throw new GuardError(
        `the plan in ${path} is for ${key} ${file[key] ?? 'none'}, but this run's ${key} is ${here[key] ?? 'none'}; nothing was applied`,
        `point the run at the plan's ${key} (--kubeconfig, --context, -n), or review a new plan with --dry-run --save-plan`,
      );
    }
  }
  const expires = new Date(file.expiresAt);
  if (!(expires.getTime() > now.getTime())) {
    throw new GuardError(
      `the plan in ${path} (saved ${file.createdAt} by ${file.operator}) expired ${formatDuration(now.getTime() - expires.getTime())} ago, at ${file.expiresAt}; nothing was applied`,
      `review it again: aegis-ir fix ${file.remediation} --dry-run --save-plan ${path}`,
    );
  }
}

/** What differs between the saved plan and the one derived now, as `-`/`+` lines of their summaries and steps. */
export function planDifference(saved: PlanFile['plan'], now: Plan): string[] {
  const lines = (plan: { summary: string; steps: ReadonlyArray<{ description: string; action: string }> }) => [
    plan.summary,
    ...plan.steps.flatMap((s) => [s.description, ...s.action.split('\n')]),
  ];
  const before = lines(saved);
  const after = lines(now);
  return [...before.filter((l) => !after.includes(l)).map((l) => `- ${l}`), ...after.filter((l) => !before.includes(l)).map((l) => `+ ${l}`)];
}
