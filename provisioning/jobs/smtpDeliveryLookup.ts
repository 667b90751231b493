/**
 * Asking the mail provider whether it accepted a message, by its Message-ID: how a retry settles
 * an email window left `committing` (the worker died between the message's final "." and
 * recording the server's answer, emailDigests.ts). SMTP itself has no way to ask; a provider with
 * a message search can answer. Configured by SMTP_DELIVERY_LOOKUP_URL; unset: no lookup, and such
 * a window stays `uncertain` (at most once).
 *
 * Implementations, chosen by the URL's scheme:
 * - `mailpit+http://host:port` (or `mailpit+https://`, `user:pass@` for its basic auth): Mailpit's
 *   HTTP API, `GET /api/v1/search?query=message-id:"<id>"`. Mailpit stores a message in its
 *   database (one transaction) before it answers 250, so an accepted message is found at once.
 *
 * A further provider (Mailgun's events, Postmark's outbound message search...) is one more class
 * with `find` and a scheme here.
 */

export type DeliveryLookupAnswer = 'accepted' | 'absent';

export interface SmtpDeliveryLookup {
  /** For logs: which provider is asked (no credentials). */
  readonly describe: string;
  /**
   * `accepted`: the provider holds a message with exactly this Message-ID; `absent`: it does not.
   * Throws when it cannot tell (unreachable, an error answer): the caller must not decide then.
   */
  find(messageId: string): Promise<DeliveryLookupAnswer>;
}

/** The schemes SMTP_DELIVERY_LOOKUP_URL accepts (runtime/config.ts checks them at start). */
export const DELIVERY_LOOKUP_SCHEMES = ['mailpit+http:', 'mailpit+https:'];

const LOOKUP_TIMEOUT_MS = 5000;

export function createDeliveryLookup(url: string | undefined): SmtpDeliveryLookup | null {
  if (!url) return null;
  const parsed = new URL(url);
  if (parsed.protocol === 'mailpit+http:' || parsed.protocol === 'mailpit+https:') return new MailpitDeliveryLookup(parsed);
  throw new Error(`SMTP_DELIVERY_LOOKUP_URL: unknown scheme ${parsed.protocol} (${DELIVERY_LOOKUP_SCHEMES.join(', ')})`);
}

class MailpitDeliveryLookup implements SmtpDeliveryLookup {
  readonly describe: string;
  private readonly base: string;
  private readonly authorization?: string;

  constructor(url: URL) {
    const http = new URL(url.href.replace(/^mailpit\+/, ''));
    if (http.username || http.password) {
      this.authorization = `Basic ${Buffer.from(`${decodeURIComponent(http.username)}:${decodeURIComponent(http.password)}`).toString('base64')}`;
      http.username = '';
      http.password = '';
    }
    this.base = http.href.replace(/\/+$/, '');
    this.describe = `Mailpit at ${this.base}`;
  }

  async find(messageId: string): Promise<DeliveryLookupAnswer> {
    // Mailpit keeps the header's value without the angle brackets.
    const id = messageId.trim().replace(/^<|>$/g, '');
    if (!id || /[\s"]/.test(id)) throw new Error(`cannot look up the Message-ID ${JSON.stringify(messageId)}`);
    // message-id: matches a part of the id (SQL LIKE): the answer is checked for the exact id below.
    const query = new URLSearchParams({ query: `message-id:"${id}"`, limit: '50' });
    const res = await fetch(`${this.base}/api/v1/search?${query}`, {
      headers: this.authorization ? { authorization: this.authorization } : {},
      signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`${this.describe}: search answered ${res.status}`);
    const body = (await res.json()) as { messages?: Array<{ MessageID?: string }> };
    if (!Array.isArray(body.messages)) throw new Error(`${this.describe}: search answered without a message list`);
    return body.messages.some((m) => m.MessageID === id) ? 'accepted' : 'absent';
  }
}
