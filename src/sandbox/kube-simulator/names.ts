import { createHash, randomBytes } from 'node:crypto';

/** The apimachinery "safe" alphabet (no vowels, no look-alikes) used for generated name suffixes and hashes. */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function encode(bytes: Uint8Array, length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += SAFE_ALPHABET[(bytes[i] ?? 0) % SAFE_ALPHABET.length];
  return out;
}

/** A random 5-character suffix, as `metadata.generateName` produces. */
export function randomSuffix(): string {
  return encode(randomBytes(5), 5);
}

/** A 5-character suffix derived from `seed`, so scenario pods get stable, real-looking names across runs. */
export function stableSuffix(seed: string): string {
  return encode(createHash('sha256').update(seed).digest(), 5);
}

/**
 * Names for the `count` pods of ReplicaSet `rs`, stable across runs: `<rs>-<suffix>`, the suffix derived from the
 * pod's index. Five characters collide among a few thousand pods, so a name already taken is derived again, salted.
 */
export function stablePodNames(rs: string, count: number): string[] {
  const names = new Set<string>();
  for (let i = 0; i < count; i += 1) {
    let name = `${rs}-${stableSuffix(`${rs}/${i}`)}`;
    for (let salt = 1; names.has(name); salt += 1) name = `${rs}-${stableSuffix(`${rs}/${i}/${salt}`)}`;
    names.add(name);
  }
  return [...names];
}

/**
 * The `pod-template-hash` of a pod template. Like the deployment controller, a 32-bit hash of the template rendered
 * as its decimal digits mapped onto the safe alphabet (so it reads like `7c9d8f6b5`); equal templates hash equally,
 * which is what lets a rollback find the ReplicaSet it returns to.
 */
export function podTemplateHash(template: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(template)).digest();
  const digits = String(digest.readUInt32BE(0));
  return encode(Uint8Array.from(digits, (c) => c.charCodeAt(0)), digits.length);
}
