import type { ChatDetails, ChatStore, ChatSummary, Message } from './chatStore';

/** What a conversation is called for the person looking at it. */
export function chatTitle(store: ChatStore, chat: ChatSummary | ChatDetails): string {
  const { session } = store;
  if (chat.kind === 'support') {
    if (session.role === 'customer') return 'Support';
    const customer = chat.participants[0];
    return customer?.displayName ?? customer?.customerId ?? 'Customer';
  }
  const other = chat.participants.find((p) => p.customerId !== session.id);
  return other?.displayName ?? 'Someone';
}

export function senderName(store: ChatStore, chat: ChatDetails | null, m: Pick<Message, 'sender'>): string {
  if (store.isMine(m)) return 'You';
  if (m.sender.kind === 'admin') return store.session.role === 'admin' ? `Administrator ${m.sender.id ?? ''}`.trim() : 'Support team';
  if (m.sender.kind === 'service') return 'Coworking chat';
  return chat?.participants.find((p) => p.customerId === m.sender.id)?.displayName ?? 'Someone';
}

export function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join('');
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? timeFormat.format(d) : dateFormat.format(d);
}
