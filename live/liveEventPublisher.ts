import { Redis } from 'ioredis';
import type { Logger } from '../runtime';
import { appendEvent, endStreamsOf, listeningRecipients, type Addressing } from './liveEventLog';
import { recipientKey, recipientOfKey, type LiveConversation, type LiveEventType, type LiveRecipient } from './liveEvents';

/** A publish never holds up what produced it (a send, a transaction) for longer than this. */
const PUBLISH_TIMEOUT_MS = 1000;

/**
 * Where every producer (portal sends, the appservice's transactions, the workers' jobs, host sync)
 * announces what changed, in the product's words. Each event goes to the logs of the recipients
 * the rules allow — a conversation's participants, a network's people — and from there, through
 * the fan-out channel, to every API process that has one of them listening (liveEventHub.ts).
 *
 * Publishing is best effort: a failure (Redis down) is logged and never fails the send or the
 * transaction that produced the event; a listener who misses it reloads on its next `resync`.
 * `onceKey` makes two producers of the same event (the portal's send, then the same message
 * coming back through the appservice) publish it once.
 */
export class LiveEventPublisher {
  private redis: Redis | null = null;

  constructor(
    private readonly redisUrl: string,
    private readonly log: Logger,
  ) {}

  /** The connection, opened on first use (a process that never publishes never connects). */
  connection(): Redis {
    if (!this.redis) {
      this.redis = new Redis(this.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: (n) => Math.min(n * 200, 2000) });
      // Failures surface on the commands (and are logged there); the connection retries by itself.
      this.redis.on('error', () => undefined);
    }
    return this.redis;
  }

  async close(): Promise<void> {
    const redis = this.redis;
    this.redis = null;
    if (redis) await redis.quit().catch(() => redis.disconnect());
  }

  /** A new message: `message` is the object the history route returns. */
  messageCreated(conversation: LiveConversation, message: { id: string }): Promise<void> {
    return this.toConversation(conversation, 'message.created', { ...message, chatId: conversation._id }, `message.created|${message.id}`);
  }

  /**
   * A message changed (an edit, its reactions): `message` is its latest version as the history
   * route returns it to someone who reacted to nothing; `own` are the copies of the participants
   * whose view differs (their reactions are `mine`), each sent to that recipient instead.
   * `version` tells one change from the next (e.g. the edit's or reaction's event id), so a change
   * published by two producers is announced once.
   */
  messageUpdated(conversation: LiveConversation, message: { id: string }, version: string, own: ReadonlyArray<{ recipient: LiveRecipient; message: { id: string } }> = []): Promise<void> {
    const chatId = conversation._id;
    const ownByKey = new Map(own.map((o) => [recipientKey(o.recipient), { ...o.message, chatId }]));
    const addressing: Addressing = {
      to: conversation.customerIds.map((id) => {
        const recipient: LiveRecipient = { kind: 'customer', networkId: conversation.networkId, id };
        return { recipient, data: ownByKey.get(recipientKey(recipient)) };
      }),
      ...(conversation.kind === 'support' ? { networkAdmins: conversation.networkId } : {}),
    };
    for (const o of own) if (o.recipient.kind === 'admin' && conversation.kind === 'support') addressing.to = [...addressing.to!, { recipient: o.recipient, data: ownByKey.get(recipientKey(o.recipient)) }];
    return this.guard('message.updated', () => appendEvent(this.connection(), 'message.updated', addressing, { ...message, chatId }, { onceKey: `message.updated|${message.id}|${version}` }));
  }

  /** A message was unsent (redacted). */
  messageDeleted(conversation: LiveConversation, messageId: string): Promise<void> {
    return this.toConversation(conversation, 'message.deleted', { id: messageId, chatId: conversation._id }, `message.deleted|${messageId}`);
  }

  chatCreated(conversation: LiveConversation, chat: { id: string }): Promise<void> {
    return this.toConversation(conversation, 'chat.created', { ...chat, chatId: conversation._id }, `chat.created|${conversation._id}`);
  }

  /** A participant's read position moved. */
  chatRead(conversation: LiveConversation, read: { participant: { kind: string; id: string }; messageId: string; readAt: string }): Promise<void> {
    return this.toConversation(conversation, 'chat.read', { chatId: conversation._id, ...read }, `chat.read|${conversation._id}|${read.participant.kind}:${read.participant.id}|${read.messageId}`);
  }

  /** Who is typing in a conversation now (the whole set, as Matrix reports it). */
  typing(conversation: LiveConversation, typing: { userIds: string[]; participants: Array<{ kind: string; id: string }> }): Promise<void> {
    return this.toConversation(conversation, 'typing', { chatId: conversation._id, ...typing });
  }

  /**
   * The conversation's summary changed (last message, unread count). The unread count differs per
   * participant, so the caller computes each listener's summary: `summaryFor` is asked only for
   * the participants who listen.
   */
  async chatUpdated(conversation: LiveConversation, summaryFor: (recipient: LiveRecipient) => Promise<object>, onceKey?: string): Promise<void> {
    await this.guard('chat.updated', async () => {
      const redis = this.connection();
      const listening = await listeningRecipients(redis, participantsOf(conversation), conversation.kind === 'support' ? conversation.networkId : undefined);
      const recipients = listening.map(recipientOfKey).filter((r): r is LiveRecipient => r !== null && r.networkId === conversation.networkId);
      if (recipients.length === 0) return;
      const to = await Promise.all(recipients.map(async (recipient) => ({ recipient, data: { ...(await summaryFor(recipient)), chatId: conversation._id } })));
      await appendEvent(redis, 'chat.updated', { to }, {}, { onceKey });
    });
  }

  /** Something every person of the network sees changed (the chats toggle, community visibility). */
  featuresChanged(networkId: string, features: { chats: boolean; communityVisibility: string }): Promise<void> {
    return this.guard('features.changed', () => appendEvent(this.connection(), 'features.changed', { network: networkId }, features));
  }

  /** New in-app notifications for these administrators. */
  notificationCreated(networkId: string, notifications: ReadonlyArray<{ adminId: string; notification: { id: string; chatId: string } }>): Promise<void> {
    if (notifications.length === 0) return Promise.resolve();
    return this.guard('notification.created', () =>
      appendEvent(
        this.connection(),
        'notification.created',
        { to: notifications.map((n) => ({ recipient: { kind: 'admin', networkId, id: n.adminId }, data: n.notification })) },
        {},
        { onceKey: `notification.created|${notifications[0]!.notification.id}` },
      ),
    );
  }

  /** The person was deactivated (or removed): every stream of theirs ends, in every process. */
  endStreams(recipient: LiveRecipient): Promise<void> {
    return this.guard('end streams', () => endStreamsOf(this.connection(), recipient));
  }

  private toConversation(conversation: LiveConversation, type: LiveEventType, data: object, onceKey?: string): Promise<void> {
    const addressing: Addressing = {
      to: conversation.customerIds.map((id) => ({ recipient: { kind: 'customer', networkId: conversation.networkId, id } })),
      ...(conversation.kind === 'support' ? { networkAdmins: conversation.networkId } : {}),
    };
    return this.guard(type, () => appendEvent(this.connection(), type, addressing, data, { onceKey }));
  }

  private async guard(what: string, publish: () => Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        publish(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer from Redis within ${PUBLISH_TIMEOUT_MS} ms`)), PUBLISH_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, event: what }, 'live event not published');
    } finally {
      clearTimeout(timer);
    }
  }
}

function participantsOf(conversation: LiveConversation): LiveRecipient[] {
  return conversation.customerIds.map((id) => ({ kind: 'customer', networkId: conversation.networkId, id }));
}
