/** Socket and TLS error codes that mean "could not reach the server", with how to say them. */
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOENT: 'no such socket',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate chain not trusted',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate is for another host',
};

/** Whether the server was reached but its TLS certificate was refused. */
export function isTlsCode(code: string): boolean {
  return NETWORK_CODES[code]?.startsWith('TLS') ?? false;
}

/** The network error code of `error` or of one of its causes, if it is one; clients wrap socket errors. */
export function networkCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth += 1) {
    const code = (current as { code?: unknown }).code ?? (current as { errno?: unknown }).errno;
    if (typeof code === 'string' && code in NETWORK_CODES) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** "connection refused" for ECONNREFUSED. */
export function describeNetworkCode(code: string): string {
  return NETWORK_CODES[code] ?? code;
}
