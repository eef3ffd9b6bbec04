import { RUNBOOK_FILE } from '../core/findings.js';
import { neutralise, neutraliseAll } from '../core/neutralise.js';
import { LEVEL_MARK, levelColor, paint } from '../render/style.js';
import { SCHEMA_VERSION } from '../render/report.js';
import { listRow } from '../render/wrap.js';
import type { CapState, FixReport } from './engine.js';
import type { Plan, PlanTable, Remediation } from './remediation.js';

/** SPEC's JSON document for `fix <id>`: `{ schemaVersion, command, plan, applied, result }`. */
export function fixDocument(report: FixReport): Record<string, unknown> {
  const { plan, remediation } = report;
  return {
    schemaVersion: SCHEMA_VERSION,
    command: `fix ${remediation.id}`,
    plan: {
      remediation: remediation.id,
      risk: remediation.risk,
      target: report.target,
      summary: plan.summary,
      size: plan.size,
      cap: report.cap,
      targets: plan.table?.rows ?? [],
      steps: plan.steps.map((s) => ({ description: s.description, action: s.action })),
      notes: plan.notes,
      runbook: `${RUNBOOK_FILE}#${remediation.anchor}`,
    },
    applied: report.applied,
    result: {
      dryRun: report.dryRun,
      reason: report.reason,
      steps: report.steps,
      notRun: report.notRun,
      savedPlan: report.savedPlan,
      verification: report.verification,
      auditLog: report.auditLog,
    },
  };
}

/**
 * The plan as the operator reads it before confirming, and as `--dry-run` prints it. Names, messages and
 * statements in it come from the cluster and the database, so they are shown escaped, as findings are.
 */
export function planText(remediation: Remediation, untrustedTarget: string, untrustedPlan: Plan, cap: CapState | null, color: boolean): string {
  const target = neutralise(untrustedTarget);
  const plan = neutraliseAll(untrustedPlan);
  const c = paint(color);
  const lines = [
    `${c.bold(`Plan: fix ${remediation.id}`)}  ${c.dim(`risk ${remediation.risk}`)}`,
    `  target: ${target}`,
    `  ${plan.summary}`,
  ];
  if (cap) {
    const line = `  safety cap: ${plan.size} of at most ${cap.limit} ${cap.unit}`;
    lines.push(cap.exceeded ? c.red(`${line} — exceeded; apply needs --max ${plan.size}`) : c.dim(line));
  }
  if (plan.table && plan.table.rows.length) lines.push('', ...tableLines(plan.table).map((l) => `  ${l}`));
  if (plan.steps.length) {
    lines.push('', c.bold('Steps'));
    // With a table of the targets above, each step's description would only repeat its row.
    plan.steps.forEach((step, i) => {
      const [first = '', ...rest] = step.action.split('\n');
      if (plan.table) lines.push(`  ${i + 1}. ${first}`, ...rest.map((l) => `     ${l}`));
      else lines.push(`  ${i + 1}. ${step.description}`, ...step.action.split('\n').map((l) => c.dim(`       ${l}`)));
    });
  }
  for (const note of plan.notes) lines.push(c.yellow(`  note: ${note}`));
  return `${lines.join('\n')}\n`;
}

/** The whole run for a terminal: the plan (unless shown at the prompt), each step's outcome and the verification, escaped as the plan is. */
export function fixText(untrusted: FixReport, color: boolean): string {
  const { remediation, ...rest } = untrusted;
  const report: FixReport = { ...neutraliseAll(rest), remediation };
  const c = paint(color);
  const out: string[] = [];
  if (!report.planShown) out.push(planText(report.remediation, report.target, report.plan, report.cap, color));
  if (report.reason) out.push(`${c.bold(report.dryRun ? 'Dry run' : report.applied ? 'Stopped' : 'Not applied')}: ${report.reason}`);
  if (report.steps.length) {
    out.push(c.bold('Applied'));
    for (const step of report.steps) {
      const mark = step.status === 'done' ? c.green('✓') : step.status === 'skipped' ? c.yellow('-') : c.red('✖');
      out.push(`  ${mark} ${step.description}: ${step.status}${step.detail ? ` (${step.detail})` : ''}`);
    }
  }
  if (report.notRun.length) {
    out.push(c.bold('Not run'));
    for (const step of report.notRun) out.push(`  ${c.dim('·')} ${step.description}`);
  }
  if (report.verification) {
    out.push(c.bold('Verify'), `  ${report.verification.summary}`);
    for (const f of report.verification.findings) {
      out.push(`  ${levelColor(c, f.level)(`${LEVEL_MARK[f.level]} ${f.code}`)} ${f.summary}`);
    }
  }
  if (report.savedPlan) {
    out.push(
      `${c.bold('Plan saved')}: ${report.savedPlan.path} (can be applied until ${report.savedPlan.expiresAt})`,
      `  apply exactly this plan: aegis-ir fix ${report.remediation.id} --plan ${report.savedPlan.path} --yes`,
    );
  }
  out.push(c.dim(`audit log: ${report.auditLog}`));
  return `${out.join('\n')}\n`;
}

/** The lines of a plan or a fix that stay whole at any width: those holding a command to paste, and a diff's lines. */
export const FIX_WHOLE_LINE = /aegis-ir |kubectl |^\s+[-+] /;

/** `fix --list`: every remediation with its risk. */
export function remediationListText(remediations: readonly Remediation[], color: boolean, lineWidth: number): string {
  const c = paint(color);
  const width = Math.max(...remediations.map((r) => r.id.length));
  const riskTone = { low: c.green, medium: c.yellow, high: c.red } as const;
  return `${remediations.map((r) => listRow(`  ${r.id.padEnd(width)}  ${riskTone[r.risk](r.risk.padEnd(6))}  `, r.summary, lineWidth)).join('\n')}\n`;
}

/** `fix --list -o json`. */
export function remediationListDocument(remediations: readonly Remediation[]): Record<string, unknown> {
  return {
    schemaVersion: SCHEMA_VERSION,
    command: 'fix --list',
    remediations: remediations.map((r) => ({
      id: r.id,
      risk: r.risk,
      summary: r.summary,
      cap: r.cap ?? null,
      runbook: `${RUNBOOK_FILE}#${r.anchor}`,
    })),
  };
}

function tableLines(table: PlanTable): string[] {
  const cells = table.rows.map((row) => table.columns.map((col) => String(row[col] ?? '-')));
  const widths = table.columns.map((col, i) => Math.max(col.length, ...cells.map((r) => (r[i] ?? '').length)));
  const format = (values: string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [format(table.columns.map((col) => col.toUpperCase())), ...cells.map(format)];
}
