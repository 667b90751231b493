import type { Logger } from './logger';
import type { MatrixApi, MatrixEvent } from './matrix/matrixApi';
import { botUserId, parseVirtualUserId } from './matrix/virtualUsers';
import { ConversationModel } from './domain/models';
import { recordSupportMessageNotification } from './domain/adminNotifications';

/**
 * What the service does with each event Synapse pushes. Every branch is idempotent: the
 * transaction processor may replay an event after a crash.
 */
export class MatrixEventHandler {
  private readonly bot: string;

  constructor(
    private readonly api: MatrixApi,
    private readonly domain: string,
    private readonly log: Logger,
  ) {
    this.bot = botUserId(domain);
  }

  readonly handle = async (event: MatrixEvent): Promise<void> => {
    if (event.type === 'm.room.message') return this.onMessage(event);
    if (event.type === 'm.room.member' && event.content?.membership === 'invite') return this.onInvite(event);
  };

  private async onMessage(event: MatrixEvent): Promise<void> {
    const body = typeof event.content?.body === 'string' ? event.content.body : '';
    const sender = parseVirtualUserId(event.sender, this.domain);
    const at = new Date(event.origin_server_ts);
    // Only moves forward: replaying an older event leaves the newer preview in place.
    await ConversationModel.updateOne(
      { roomId: event.room_id, $or: [{ 'lastMessage.at': { $exists: false } }, { 'lastMessage.at': { $lte: at } }] },
      {
        $set: {
          lastActivityAt: at,
          lastMessage: { eventId: event.event_id, senderId: sender?.id ?? null, body: body.slice(0, 200), at },
        },
      },
    );
    await recordSupportMessageNotification(event, this.domain);
  }

  /** An invite to one of our virtual users that the service did not send itself. */
  private async onInvite(event: MatrixEvent): Promise<void> {
    const invitee = event.state_key ?? '';
    if (!parseVirtualUserId(invitee, this.domain) || event.sender === this.bot) return;
    const conversation = await ConversationModel.exists({ roomId: event.room_id });
    if (conversation) {
      await this.api.join(event.room_id, invitee);
      return;
    }
    this.log.info({ roomId: event.room_id, sender: event.sender, invitee }, 'refusing invite to a room the service did not create');
    await this.api.leave(event.room_id, invitee, 'Conversations with this person start from the portal or an existing chat.');
  }
}
