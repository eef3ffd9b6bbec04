/*
 * A small PromQL builder: selectors, label matchers and the few functions aegis-ir uses. Names are
 * checked and values quoted here, so a matcher in a metric name or a quote in a config value cannot
 * change what a query means.
 */

/** A label matcher: `job="aegis-api"`, `status=~"5.."`. */
export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** A PromQL expression, as text; only this module makes them. */
export type Expr = string & { readonly promql: unique symbol };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Whether `name` is a PromQL metric name (no selector, no function). */
export function isMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}

/** Whether `name` is a PromQL label name. */
export function isLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

/** A PromQL string literal: double-quoted, with backslashes, quotes and line breaks escaped. */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** `metric{label="value", …}`; throws on a name PromQL would not read as one. */
export function selector(metric: string, matchers: readonly Matcher[] = []): Expr {
  if (!isMetricName(metric)) throw new Error(`not a PromQL metric name: ${metric}`);
  for (const m of matchers) if (!isLabelName(m.label)) throw new Error(`not a PromQL label name: ${m.label}`);
  const inner = matchers.map((m) => `${m.label}${m.op}${quote(m.value)}`).join(', ');
  return (inner ? `${metric}{${inner}}` : metric) as Expr;
}

/** `rate(expr[window])`; `window` is a PromQL duration such as `5m`. */
export function rate(expr: Expr, window: string): Expr {
  return `rate(${expr}[${window}])` as Expr;
}

/** An aggregation, `sum by (le) (expr)`; labels are checked like a selector's. */
export function aggregate(op: 'sum' | 'min' | 'max' | 'count', expr: Expr, by: readonly string[] = []): Expr {
  for (const label of by) if (!isLabelName(label)) throw new Error(`not a PromQL label name: ${label}`);
  return (by.length ? `${op} by (${by.join(', ')}) (${expr})` : `${op}(${expr})`) as Expr;
}

/** `histogram_quantile(q, expr)`. */
export function histogramQuantile(q: number, expr: Expr): Expr {
  return `histogram_quantile(${q}, ${expr})` as Expr;
}

/** `(a or vector(0))`: a sum that is 0, not absent, when no series matched. */
export function orZero(expr: Expr): Expr {
  return `(${expr} or vector(0))` as Expr;
}

/** `a / b`. */
export function divide(a: Expr, b: Expr): Expr {
  return `${a} / ${b}` as Expr;
}

/** `(a - b)`. */
export function subtract(a: Expr, b: Expr): Expr {
  return `(${a} - ${b})` as Expr;
}

/** `predict_linear(expr[window], seconds)`: where a gauge's linear fit over `window` will be in `seconds`. */
export function predictLinear(expr: Expr, window: string, seconds: number): Expr {
  return `predict_linear(${expr}[${window}], ${seconds})` as Expr;
}

/** A filtering comparison, `a > 0.5`, or `a >= on (pod) b` matching series on the `on` labels. */
export function compare(a: Expr, op: '>' | '>=' | '==' | '<', b: Expr | number, on: readonly string[] = []): Expr {
  for (const label of on) if (!isLabelName(label)) throw new Error(`not a PromQL label name: ${label}`);
  if (typeof b === 'number' && !Number.isFinite(b)) throw new Error(`not a finite number: ${b}`);
  return `${a} ${op}${on.length ? ` on (${on.join(', ')})` : ''} ${b}` as Expr;
}

/**
 * Parses matchers as written in the config: `namespace="aegis", job=~"aegis-api|aegis-worker"`.
 * Returns the matchers, or a description of what is wrong with the text.
 */
export function parseMatchers(text: string): Matcher[] | { error: string } {
  const matchers: Matcher[] = [];
  const term = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
  let at = 0;
  while (at < text.length && text.slice(at).trim()) {
    term.lastIndex = at;
    const match = term.exec(text);
    if (!match) return { error: `cannot read a label matcher at "${text.slice(at).trim()}"` };
    matchers.push({ label: match[1] as string, op: match[2] as Matcher['op'], value: (match[3] as string).replace(/\\(.)/g, '$1') });
    at = term.lastIndex;
  }
  return matchers;
}
