import { Chalk, type ChalkInstance } from 'chalk';
import type { Level } from '../core/findings.js';

/** A chalk bound to the run's colour decision, so no renderer consults the terminal itself. */
export function paint(color: boolean): ChalkInstance {
  return new Chalk({ level: color ? 1 : 0 });
}

/** Marks shown before a finding, readable without colour. */
export const LEVEL_MARK: Record<Level, string> = { critical: '✖', error: '✖', warn: '▲', info: '•' };

export function levelColor(c: ChalkInstance, level: Level): (text: string) => string {
  switch (level) {
    case 'critical':
      return c.bold.red;
    case 'error':
      return c.red;
    case 'warn':
      return c.yellow;
    default:
      return c.cyan;
  }
}
