/**
 * Reading what arrived in the test stack's Mailpit (MAILPIT_URL) through its HTTP API:
 * `/api/v1/search`, `/api/v1/message/{ID}` and `/api/v1/message/{ID}/headers`.
 */

export interface MailSummary {
  ID: string;
  Subject: string;
  To: Array<{ Address: string; Name: string }>;
  From: { Address: string; Name: string };
}

export interface MailMessage extends MailSummary {
  Text: string;
  HTML: string;
}

export function mailpitUrl(): string {
  const url = process.env.MAILPIT_URL;
  if (!url) throw new Error('MAILPIT_URL is not set (the test stack starts Mailpit unless SMTP_URL is set)');
  return url;
}

/** Every message sent to `address`, newest first. */
export async function mailTo(address: string, base = mailpitUrl()): Promise<MailSummary[]> {
  const res = await fetch(`${base}/api/v1/search?limit=1000&query=${encodeURIComponent(`to:"${address}"`)}`);
  if (!res.ok) throw new Error(`Mailpit search answered ${res.status}`);
  const body = (await res.json()) as { messages: MailSummary[] };
  return body.messages.filter((m) => m.To.some((t) => t.Address.toLowerCase() === address.toLowerCase()));
}

export async function mailMessage(id: string, base = mailpitUrl()): Promise<MailMessage> {
  const res = await fetch(`${base}/api/v1/message/${encodeURIComponent(id)}`);
  if (!res.ok) throw new Error(`Mailpit message answered ${res.status}`);
  return (await res.json()) as MailMessage;
}

export async function mailHeaders(id: string, base = mailpitUrl()): Promise<Record<string, string[]>> {
  const res = await fetch(`${base}/api/v1/message/${encodeURIComponent(id)}/headers`);
  if (!res.ok) throw new Error(`Mailpit headers answered ${res.status}`);
  return (await res.json()) as Record<string, string[]>;
}
