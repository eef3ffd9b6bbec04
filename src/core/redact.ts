/**
 * Keeps secrets out of every output, log and audit record: passwords in connection URLs, bearer
 * tokens, and the path of webhook URLs (which is the credential for Slack-style webhooks).
 */

const URL_WITH_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*):([^@/\s]+)@/gi;
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
