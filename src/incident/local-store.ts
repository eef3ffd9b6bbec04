import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../core/errors.js';
import { stateDir } from '../core/state.js';
import type { Incident } from './record.js';
import { applyChange, candidateIds, checkedId, contended, parseRecord, serialize, WRITE_ATTEMPTS, type IncidentStore } from './store.js';

/** `$XDG_STATE_HOME/aegis-ir/incidents`. */
export function localIncidentDir(env: Record<string, string | undefined>): string {
  return join(stateDir(env), 'incidents');
}

/** A writer's lock older than this was left by a process that died; locks are held for milliseconds. */
const STALE_LOCK_MS = 10_000;
const LOCK_WAIT_MS = 25;

/**
 * `incident.store: local`: one JSON file per incident. A number is claimed by creating its file
 * exclusively (`O_CREAT|O_EXCL`), so two processes opening at the same instant get two numbers;
 * every write goes to a temporary file that is fsynced and renamed over the record, then the
 * directory is fsynced, so a reader (or a crash) sees the old record or the new one, never half.
 * Writers of one record take turns through an exclusive lock file beside it.
 */
export class LocalIncidentStore implements IncidentStore {
  constructor(readonly where: string) {}

  async create(openedAt: Date, build: (id: string) => Incident): Promise<Incident> {
    this.ensureDir();
    for (const id of candidateIds(openedAt)) {
      const path = this.pathOf(id);
      try {
        closeSync(openSync(path, 'wx', 0o600));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw this.unwritable(error);
      }
      const incident = build(id);
      this.write(path, incident);
      return incident;
    }
    throw new Error('unreachable: candidateIds ends by throwing');
  }

  async get(id: string): Promise<Incident | null> {
    return this.read(this.pathOf(id));
  }

  async list(): Promise<Incident[]> {
    let names: string[];
    try {
      names = readdirSync(this.where);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records = names
      .filter((n) => /^INC-\d{8}-\d+\.json$/.test(n))
      .sort()
      .map((n) => this.read(join(this.where, n)));
    return records.filter((r): r is Incident => r !== null);
  }

  async update(id: string, change: (incident: Incident) => Incident | null): Promise<Incident> {
    const path = this.pathOf(id);
    const lock = `${path}.lock`;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS * 20; attempt += 1) {
      if (!this.tryLock(lock)) {
        await sleep(LOCK_WAIT_MS);
        continue;
      }
      try {
        const current = this.read(path);
        if (!current) throw new UsageError(`no incident ${id} in ${this.where}`, 'aegis-ir incident list');
        const next = applyChange(current, change);
        if (!next) return current;
        this.write(path, next);
        return next;
      } finally {
        unlinkSync(lock);
      }
    }
    throw contended(id, this.where);
  }

  private pathOf(id: string): string {
    return join(this.where, `${checkedId(id)}.json`);
  }

  /** The record at `path`; null when there is none, or its number was just claimed and it is being written. */
  private read(path: string): Incident | null {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return text === '' ? null : parseRecord(text, path);
  }

  private write(path: string, incident: Incident): void {
    const temporary = join(this.where, `.${randomUUID()}.tmp`);
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, serialize(incident));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    const dir = openSync(this.where, 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }

  private tryLock(lock: string): boolean {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    try {
      // Left by a process that died mid-write: the record itself is whole (writes are renames).
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) unlinkSync(lock);
    } catch {
      // Released meanwhile.
    }
    return false;
  }

  private ensureDir(): void {
    try {
      mkdirSync(this.where, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw this.unwritable(error);
    }
  }

  private unwritable(error: unknown): UsageError {
    return new UsageError(
      `cannot write incident records in ${this.where}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      'set XDG_STATE_HOME to a writable directory, or incident.store: kubernetes in the config',
    );
  }
}
