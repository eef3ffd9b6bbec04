import { UsageError, describeValue } from '../core/errors.js';

/** RFC 1123 label: what a namespace must be. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A namespace as the API server accepts it (a DNS-1123 label: at most 63 lower-case letters, digits and
 * '-'), so that `-n ../../etc` is refused here instead of becoming part of a URL path.
 */
export function checkNamespace(namespace: string): string {
  if (namespace.length <= 63 && DNS1123_LABEL.test(namespace)) return namespace;
  throw new UsageError(
    `namespace ${describeValue(namespace)} is not a valid Kubernetes namespace; expected lower-case letters, digits and '-' (at most 63)`,
    'list them with: kubectl get namespaces',
  );
}

/**
 * An object name as the API server accepts it (a DNS-1123 subdomain: at most 253 characters, dot-separated
 * labels), checked before it is encoded into a URL path.
 */
export function checkName(name: string): string {
  if (name.length > 0 && name.length <= 253 && name.split('.').every((label) => DNS1123_LABEL.test(label))) return name;
  throw new UsageError(
    `${describeValue(name)} is not a valid Kubernetes object name; expected lower-case letters, digits, '-' and '.' (at most 253)`,
    `list them with: kubectl get all`,
  );
}

/**
 * Orders Kubernetes object names. They are lower-case letters, digits, '-' and '.', which sort the same by code
 * unit as by locale; `localeCompare` would load the ICU collator (some 5 ms at its first use) to say so.
 */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
