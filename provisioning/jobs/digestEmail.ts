/**
 * What a batched notification email says (plain text and HTML, every value escaped in the HTML):
 * the conversations with unread messages, the latest few of each (text only; an attachment by its
 * name), a link to each conversation in the web client, and the unsubscribe link.
 */

export interface DigestChat {
  chatId: string;
  title: string;
  link: string;
  unread: number;
  /** Oldest first. */
  messages: Array<{ senderName: string; text: string; at: Date }>;
}

export interface DigestEmail {
  subject: string;
  text: string;
  html: string;
}

export const MESSAGES_PER_CHAT = 3;

export function composeDigestEmail(opts: { networkName: string; chats: DigestChat[]; unsubscribeUrl: string; settingsHint: string }): DigestEmail {
  const total = opts.chats.reduce((n, c) => n + c.unread, 0);
  const subject =
    opts.chats.length === 1
      ? `${plural(total, 'new message')} in ${opts.chats[0]!.title} (${opts.networkName})`
      : `${plural(total, 'new message')} in ${opts.chats.length} conversations (${opts.networkName})`;
  const text = [
    `You have ${plural(total, 'unread message')} on ${opts.networkName}.`,
    '',
    ...opts.chats.flatMap((c) => [
      `${c.title} (${plural(c.unread, 'unread')})`,
      ...c.messages.map((m) => `  ${m.senderName}: ${m.text}`),
      ...(c.unread > c.messages.length ? [`  ...and ${c.unread - c.messages.length} more`] : []),
      `  Open: ${c.link}`,
      '',
    ]),
    `${opts.settingsHint}`,
    `Unsubscribe from these emails: ${opts.unsubscribeUrl}`,
    '',
  ].join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(subject)}</title></head>
<body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2328;background:#f6f8fa;margin:0;padding:24px">
<div style="max-width:560px;margin:0 auto;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:24px">
<p style="margin-top:0">You have <strong>${esc(plural(total, 'unread message'))}</strong> on ${esc(opts.networkName)}.</p>
${opts.chats
  .map(
    (c) => `<div style="border-top:1px solid #d0d7de;padding-top:12px;margin-top:12px">
<h2 style="font-size:16px;margin:0 0 8px">${esc(c.title)} <span style="color:#59636e;font-weight:normal">(${esc(plural(c.unread, 'unread'))})</span></h2>
${c.messages.map((m) => `<p style="margin:4px 0"><strong>${esc(m.senderName)}</strong>: ${esc(m.text)}</p>`).join('\n')}
${c.unread > c.messages.length ? `<p style="margin:4px 0;color:#59636e">…and ${c.unread - c.messages.length} more</p>` : ''}
<p style="margin:8px 0 0"><a href="${esc(c.link)}" style="color:#0969da">Open the conversation</a></p>
</div>`,
  )
  .join('\n')}
<p style="color:#59636e;font-size:12px;margin-top:24px">${esc(opts.settingsHint)} <a href="${esc(opts.unsubscribeUrl)}" style="color:#59636e">Unsubscribe from these emails</a>.</p>
</div>
</body></html>
`;
  return { subject, text, html };
}

/** A message as the email shows it: its text, or its attachment by name. */
export function messageText(msgtype: string, preview: string): string {
  const name = preview.trim();
  switch (msgtype) {
    case 'm.image':
      return `[image: ${name || 'attachment'}]`;
    case 'm.file':
    case 'm.video':
    case 'm.audio':
      return `[attachment: ${name || 'file'}]`;
    default:
      return name;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 || word === 'unread' ? '' : 's'}`;
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
