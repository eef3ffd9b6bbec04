/**
 * Keeps secrets out of every output, log and audit record: passwords in connection URLs, bearer
 * tokens, and the path of webhook URLs (which is the credential for Slack-style webhooks).
 */

// Up to the authority's last "@": a password may hold an unencoded one.
const URL_WITH_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*):([^/\s]+)@/gi;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/-]+=*/g;
const PASSWORD_PARAM = /\b(password|passwd|token|secret|apikey|api_key)=([^&\s]+)/gi;
const WEBHOOK = /\b(https?:\/\/hooks\.[^/\s]+|https?:\/\/[^/\s]+\/(?:services|webhooks?|hooks))\/[^\s"']+/gi;

/** Replaces every secret the tool knows how to recognise in `text` with `***`. */
export function redact(text: string): string {
  return text
    .replace(URL_WITH_PASSWORD, '$1:***@')
    .replace(BEARER, '$1***')
    .replace(PASSWORD_PARAM, '$1=***')
    .replace(WEBHOOK, '$1/***');
}

/** A URL as it may be shown: password and query secrets removed. Returns the text unchanged when it is no URL. */
export function displayUrl(url: string): string {
  return redact(url);
}

/** Shortest value treated as a secret to hide literally; shorter ones would mangle ordinary text. */
const MIN_SECRET_LENGTH = 4;

/**
 * The redaction of one run: the patterns above plus the literal secrets this run knows (the database
 * password, the Prometheus token), wherever they turn up — an echoed URL, a driver's error message —
 * raw or URL-encoded.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  /** Remembers secret values to hide from now on; empty and very short values are ignored. */
  add(...values: Array<string | null | undefined>): void {
    for (const value of values) {
      if (!value || value.length < MIN_SECRET_LENGTH) continue;
      // As written, as in a URL, and as inside a JSON string (where quotes and backslashes are escaped).
      this.secrets.add(value);
      this.secrets.add(encodeURIComponent(value));
      this.secrets.add(JSON.stringify(value).slice(1, -1));
    }
  }

  redact(text: string): string {
    let out = redact(text);
    // Longest first, so a secret containing another is hidden whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
    return out;
  }
}
