import { batch, signal } from '@preact/signals';
import { ApiError, isMissingRoute, unwrap, type Api } from './api/client';
import type { ApiPaths, ReadMarker, RichMessage } from './api/liveContract';
import { LiveEvents, type LiveEventType, type StreamState } from './eventStream';
import type { Session } from './session';

type Ok<P extends keyof ApiPaths, M extends keyof ApiPaths[P]> = ApiPaths[P][M] extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;

export type Features = Ok<'/v1/me/features', 'get'>;
export type ChatSummary = Ok<'/v1/chats', 'get'>['chats'][number];
export type ChatDetails = Omit<Ok<'/v1/chats/{chatId}', 'get'>, 'readMarkers'> & { readMarkers?: ReadMarker[] };
export type Person = Ok<'/v1/community', 'get'>['people'][number];
export type Settings = Ok<'/v1/networks/{nid}/settings', 'get'>;
export type AdminNotification = Ok<'/v1/networks/{nid}/notifications', 'get'>['notifications'][number];
export type Message = RichMessage & { pending?: boolean };

export interface ConversationState {
  details: ChatDetails | null;
  /** Oldest first, as shown. */
  messages: Message[];
  nextCursor: string | null;
  loadingOlder: boolean;
  error: unknown;
  typing: string[];
}

const PAGE = 30;

function txnId(): string {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `web-${Date.now().toString(36)}-${random[0]!.toString(36)}${random[1]!.toString(36)}`;
}

/**
 * The server state the screens show, in one place: features, the chat list (or the support inbox
 * for administrators), the open conversations. Loaded through the typed API client and kept
 * current by the one live stream; unread counts are the server's, never counted here.
 */
export class ChatStore {
  readonly features = signal<Features | null>(null);
  readonly featuresError = signal<unknown>(null);
  readonly chats = signal<ChatSummary[]>([]);
  readonly chatsCursor = signal<string | null>(null);
  readonly chatsLoaded = signal(false);
  readonly chatsError = signal<unknown>(null);
  readonly conversations = signal<Record<string, ConversationState>>({});
  readonly stream = signal<StreamState>('connecting');
  readonly notificationsUnread = signal<number | null>(null);
  /** Rich-message routes this server has (API.md v1.1); false once one answered "no such route". */
  readonly capabilities = signal({ edit: true, reactions: true, typing: true });
  private readonly live: LiveEvents;
  private readonly markedRead = new Map<string, string>();
  private lastTypingSent = new Map<string, number>();

  constructor(
    readonly api: Api,
    readonly session: Session,
    apiBase: string,
  ) {
    this.live = new LiveEvents(api, apiBase, {
      onEvent: (type, data) => this.applyEvent(type, data),
      onResync: () => void this.reloadAll(),
      onState: (state) => (this.stream.value = state),
    });
  }

  get isLive(): boolean {
    return this.stream.value === 'live';
  }

  start(): void {
    void this.reloadAll();
    this.live.start();
  }

  stop(): void {
    this.live.stop();
  }

  /** Features and the chat list at once (one round trip on first load); the list only shows when chats are on. */
  async reloadAll(): Promise<void> {
    await Promise.all([this.loadFeatures(), this.loadChats()]);
    if (this.features.value?.chats) {
      if (this.session.role === 'admin') void this.loadNotificationCount();
      for (const chatId of Object.keys(this.conversations.value)) void this.openConversation(chatId);
    }
  }

  async loadFeatures(): Promise<void> {
    try {
      this.features.value = await unwrap(this.api.GET('/v1/me/features', {}));
      this.featuresError.value = null;
    } catch (err) {
      this.featuresError.value = err;
    }
  }

  async loadChats(more = false): Promise<void> {
    const cursor = more ? (this.chatsCursor.value ?? undefined) : undefined;
    try {
      const page =
        this.session.role === 'admin'
          ? await unwrap(this.api.GET('/v1/networks/{nid}/chats', { params: { path: { nid: this.session.networkId }, query: { cursor, limit: 30 } } }))
          : await unwrap(this.api.GET('/v1/chats', { params: { query: { cursor, limit: 30 } } }));
      batch(() => {
        this.chats.value = more ? [...this.chats.value, ...page.chats.filter((c) => !this.chats.value.some((o) => o.id === c.id))] : page.chats;
        this.chatsCursor.value = page.nextCursor;
        this.chatsLoaded.value = true;
        this.chatsError.value = null;
      });
    } catch (err) {
      batch(() => {
        this.chatsError.value = err;
        this.chatsLoaded.value = true;
      });
    }
  }

  async loadNotificationCount(): Promise<void> {
    try {
      const page = await unwrap(this.api.GET('/v1/networks/{nid}/notifications', { params: { path: { nid: this.session.networkId }, query: { limit: 1 } } }));
      this.notificationsUnread.value = page.unreadCount;
    } catch {
      this.notificationsUnread.value = null;
    }
  }

  conversation(chatId: string): ConversationState | undefined {
    return this.conversations.value[chatId];
  }

  private patchConversation(chatId: string, patch: (c: ConversationState) => Partial<ConversationState>): void {
    const current = this.conversations.value[chatId] ?? { details: null, messages: [], nextCursor: null, loadingOlder: false, error: null, typing: [] };
    this.conversations.value = { ...this.conversations.value, [chatId]: { ...current, ...patch(current) } };
  }

  async openConversation(chatId: string): Promise<void> {
    try {
      const [details, page] = await Promise.all([
        unwrap(this.api.GET('/v1/chats/{chatId}', { params: { path: { chatId } } })),
        unwrap(this.api.GET('/v1/chats/{chatId}/messages', { params: { path: { chatId }, query: { limit: PAGE } } })),
      ]);
      this.patchConversation(chatId, (c) => ({
        details,
        messages: mergeMessages(
          c.messages.filter((m) => m.pending),
          [...page.messages].reverse(),
        ),
        nextCursor: page.nextCursor,
        error: null,
      }));
    } catch (err) {
      this.patchConversation(chatId, () => ({ error: err }));
    }
  }

  async loadOlder(chatId: string): Promise<void> {
    const c = this.conversation(chatId);
    if (!c?.nextCursor || c.loadingOlder) return;
    this.patchConversation(chatId, () => ({ loadingOlder: true }));
    try {
      const page = await unwrap(this.api.GET('/v1/chats/{chatId}/messages', { params: { path: { chatId }, query: { from: c.nextCursor, limit: PAGE } } }));
      this.patchConversation(chatId, (cur) => ({
        messages: mergeMessages([...page.messages].reverse(), cur.messages),
        nextCursor: page.nextCursor,
        loadingOlder: false,
      }));
    } catch (err) {
      this.patchConversation(chatId, () => ({ loadingOlder: false, error: err }));
    }
  }

  private me(): Message['sender'] {
    return { kind: this.session.role, id: this.session.id };
  }

  isMine(m: Pick<Message, 'sender'>): boolean {
    return m.sender.kind === this.session.role && m.sender.id === this.session.id;
  }

  /** Sends text; throws an ApiError the composer shows as a sentence. */
  async send(chatId: string, body: string, replyTo?: Message): Promise<void> {
    const txn = txnId();
    const sent = await unwrap(
      this.api.POST('/v1/chats/{chatId}/messages', { params: { path: { chatId } }, body: { txnId: txn, body, ...(replyTo ? { replyTo: replyTo.id } : {}) } }),
    );
    const message: Message = {
      id: sent.id,
      chatId,
      sender: this.me(),
      type: 'text',
      body,
      sentAt: new Date().toISOString(),
      ...(replyTo ? { replyTo: { id: replyTo.id, sender: replyTo.sender, bodyPreview: replyTo.body.slice(0, 100) } } : {}),
    };
    this.patchConversation(chatId, (c) => ({ messages: mergeMessages(c.messages, [message]) }));
    void this.setTyping(chatId, false);
    if (!this.isLive) void this.loadChats();
  }

  async sendFile(chatId: string, file: File): Promise<void> {
    const form = new FormData();
    form.append('txnId', txnId());
    form.append('file', file, file.name);
    const sent = await unwrap(
      this.api.POST('/v1/chats/{chatId}/attachments', {
        params: { path: { chatId } },
        body: {} as never,
        bodySerializer: () => form,
      }),
    );
    const message: Message = {
      id: sent.id,
      chatId,
      sender: this.me(),
      type: sent.attachment.mimeType.startsWith('image/') ? 'image' : 'file',
      body: sent.attachment.name,
      attachment: sent.attachment,
      sentAt: new Date().toISOString(),
    };
    this.patchConversation(chatId, (c) => ({ messages: mergeMessages(c.messages, [message]) }));
    if (!this.isLive) void this.loadChats();
  }

  async unsend(chatId: string, messageId: string): Promise<void> {
    await unwrap(this.api.DELETE('/v1/chats/{chatId}/messages/{messageId}', { params: { path: { chatId, messageId } } }));
    this.removeMessage(chatId, messageId);
    if (!this.isLive) void this.loadChats();
  }

  async edit(chatId: string, messageId: string, body: string): Promise<void> {
    try {
      const updated = await unwrap(this.api.PATCH('/v1/chats/{chatId}/messages/{messageId}', { params: { path: { chatId, messageId } }, body: { body } }));
      this.replaceMessage(chatId, messageId, (m) => ({ ...m, ...(updated ?? {}), body, editedAt: updated?.editedAt ?? new Date().toISOString() }));
    } catch (err) {
      if (isMissingRoute(err)) this.capabilities.value = { ...this.capabilities.value, edit: false };
      throw err;
    }
  }

  async react(chatId: string, message: Message, key: string): Promise<void> {
    const mine = message.reactions?.some((r) => r.key === key && r.mine) ?? false;
    const params = { params: { path: { chatId, messageId: message.id, key } } };
    try {
      const updated = await unwrap(mine ? this.api.DELETE('/v1/chats/{chatId}/messages/{messageId}/reactions/{key}', params) : this.api.PUT('/v1/chats/{chatId}/messages/{messageId}/reactions/{key}', params));
      const reactions = (updated as Message | undefined)?.reactions; // 204 answers carry none
      this.replaceMessage(chatId, message.id, (m) => ({ ...m, reactions: reactions ?? toggleReaction(m.reactions ?? [], key, !mine) }));
    } catch (err) {
      if (isMissingRoute(err)) this.capabilities.value = { ...this.capabilities.value, reactions: false };
      throw err;
    }
  }

  /** Marks the conversation read up to its newest message from someone else (once per message). */
  async markRead(chatId: string): Promise<void> {
    const c = this.conversation(chatId);
    const newest = c?.messages.filter((m) => !m.pending).at(-1);
    if (!newest || this.markedRead.get(chatId) === newest.id) return;
    this.markedRead.set(chatId, newest.id);
    const summary = this.chats.value.find((s) => s.id === chatId);
    try {
      await unwrap(this.api.POST('/v1/chats/{chatId}/read', { params: { path: { chatId } }, body: { messageId: newest.id } }));
      // The badge is the server's: read it again unless the stream will tell.
      if (!this.isLive && summary && summary.unreadCount > 0) void this.loadChats();
    } catch {
      this.markedRead.delete(chatId);
    }
  }

  /** Tells the other side this person types; at most one call per 4 s while typing. */
  async setTyping(chatId: string, typing: boolean): Promise<void> {
    if (!this.capabilities.value.typing || !this.isLive) return;
    const last = this.lastTypingSent.get(chatId) ?? 0;
    if (typing && Date.now() - last < 4000) return;
    if (!typing && last === 0) return;
    this.lastTypingSent.set(chatId, typing ? Date.now() : 0);
    try {
      await unwrap(this.api.POST('/v1/chats/{chatId}/typing', { params: { path: { chatId } }, body: { typing } }));
    } catch (err) {
      if (isMissingRoute(err)) this.capabilities.value = { ...this.capabilities.value, typing: false };
    }
  }

  private removeMessage(chatId: string, messageId: string): void {
    if (!this.conversation(chatId)) return;
    this.patchConversation(chatId, (c) => ({ messages: c.messages.filter((m) => m.id !== messageId) }));
  }

  private replaceMessage(chatId: string, messageId: string, change: (m: Message) => Message): void {
    if (!this.conversation(chatId)) return;
    this.patchConversation(chatId, (c) => ({ messages: c.messages.map((m) => (m.id === messageId ? change(m) : m)) }));
  }

  private upsertChat(chat: ChatSummary): void {
    const others = this.chats.value.filter((c) => c.id !== chat.id);
    const previous = this.chats.value.find((c) => c.id === chat.id);
    // A chat this list does not hold yet comes without its participants' names on the stream: the
    // list is read again (one request), so it is shown as the REST list shows it.
    if (!previous && !Array.isArray((chat as { participants?: unknown }).participants)) {
      void this.loadChats();
      return;
    }
    const merged = { ...previous, ...chat } as ChatSummary;
    this.chats.value = [merged, ...others].sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt));
  }

  /** What the live stream says happened (API.md v1.1: the REST objects plus chatId). */
  applyEvent(type: LiveEventType, data: Record<string, unknown> & { chatId?: string }): void {
    const chatId = typeof data.chatId === 'string' ? data.chatId : undefined;
    switch (type) {
      case 'message.created':
      case 'message.updated':
        if (chatId && this.conversation(chatId)) {
          // The message as this person's history shows it: the stream's reactions say `mine` for
          // the recipient (also for a reaction made or removed on another device).
          const message = data as unknown as Message;
          this.patchConversation(chatId, (c) => ({ messages: mergeMessages(c.messages, [message]) }));
        }
        break;
      case 'message.deleted':
        if (chatId) this.removeMessage(chatId, String(data.messageId ?? data.id));
        break;
      case 'chat.created':
      case 'chat.updated':
        if (typeof data.id === 'string' && typeof data.lastActivityAt === 'string') this.upsertChat(data as unknown as ChatSummary);
        break;
      case 'chat.read':
        if (chatId && this.conversation(chatId)) {
          const marker = data as unknown as ReadMarker;
          this.patchConversation(chatId, (c) =>
            c.details
              ? { details: { ...c.details, readMarkers: [...(c.details.readMarkers ?? []).filter((r) => JSON.stringify(r.participant) !== JSON.stringify(marker.participant)), marker] } }
              : {},
          );
        }
        break;
      case 'typing':
        if (chatId && Array.isArray(data.userIds)) {
          const ids = (data.userIds as unknown[]).map(String).filter((id) => id !== this.session.id);
          this.patchConversation(chatId, () => ({ typing: ids }));
        }
        break;
      case 'features.changed':
        void this.reloadAll();
        break;
      case 'notification.created':
        if (this.session.role === 'admin') void this.loadNotificationCount();
        break;
    }
  }
}

/** Messages by id (a later copy wins: edits, reactions), ordered by time. */
function mergeMessages(a: Message[], b: Message[]): Message[] {
  const byId = new Map<string, Message>();
  for (const m of [...a, ...b]) byId.set(m.id, { ...byId.get(m.id), ...m });
  return [...byId.values()].sort((x, y) => x.sentAt.localeCompare(y.sentAt));
}

function toggleReaction(reactions: NonNullable<Message['reactions']>, key: string, on: boolean): NonNullable<Message['reactions']> {
  const existing = reactions.find((r) => r.key === key);
  if (on) return existing ? reactions.map((r) => (r.key === key ? { ...r, count: r.count + 1, mine: true } : r)) : [...reactions, { key, count: 1, mine: true }];
  return reactions.map((r) => (r.key === key ? { ...r, count: r.count - 1, mine: false } : r)).filter((r) => r.count > 0);
}

export { ApiError };
