import { createHash } from 'node:crypto';
import { AppError, RecipientNotReachableError, type Logger } from '../../runtime';
import { SentMessageModel, isBlockedBy, isChatSuspended, isDuplicateKey, sendRecordId } from '../../store';
import { MatrixError, type MatrixApi } from '../matrix/matrixApi';
import type { Actor, Conversation } from './conversation';
import type { ConversationAccess } from './conversationAccess';
import type { ConversationRooms } from './conversationRooms';
import { restoreSavedPowerLevels } from './savedPowerLevels';
import type { MessageHistory } from './messageHistory';
import type { LiveEventPublisher } from '../../live';

/** A customer whose chats the network's administrators suspended. */
export class ChatsSuspendedError extends AppError {
  constructor() {
    super('forbidden', 403, "your chats are suspended by the network's administrators");
  }
}

/** Content key carrying a portal send's transaction id (exactly-once across Synapse restarts). */
export const SEND_MARKER = 'coworking.txn_id';
/** How far back a retried send looks for its own earlier attempt. */
const MARKER_LOOKBACK = 50;

/**
 * Portal sends, exactly once: the same (conversation, sender, client txnId) always yields the
 * same Matrix event, across retries, concurrent duplicates, and restarts of Synapse or of us.
 */
export class ExactlyOnceSend {
  constructor(
    private readonly api: MatrixApi,
    private readonly rooms: ConversationRooms,
    private readonly access: ConversationAccess,
    private readonly log: Logger,
    private readonly history: MessageHistory,
    private readonly live: LiveEventPublisher,
  ) {}

  async send(conversation: Conversation, actor: Actor, txnId: string, content: Record<string, unknown>): Promise<string> {
    const sender = this.rooms.matrixUserOf(actor);
    const recordId = sendRecordId(conversation._id, sender, txnId);
    // The block and suspension lookups run beside the claim (they decide nothing about it): one
    // round trip of MongoDB latency before Synapse instead of two.
    const refusal = this.refuseBlockedSender(conversation, sender).then(
      () => null,
      (err: unknown) => err,
    );
    // One round trip claims the send: null when this call created the record, else the earlier one.
    const known = await SentMessageModel.findOneAndUpdate({ _id: recordId }, { $setOnInsert: { chatId: conversation._id } }, { upsert: true, returnDocument: 'before' })
      .lean()
      .catch(async (err) => {
        // A concurrent duplicate inserted it between the two halves of the upsert.
        if (!isDuplicateKey(err)) throw err;
        return SentMessageModel.findById(recordId).lean();
      });
    if (known?.eventId) return known.eventId;
    const { roomId } = await this.rooms.enterRoom(conversation, actor);
    // Deterministic Matrix transaction id: a retry (or a concurrent duplicate) reaches Synapse with
    // the same id, and Synapse answers it with the event it already created — but only from memory,
    // so the id also travels in the content, where a retry after a Synapse restart can find it.
    const matrixTxnId = `p.${createHash('sha256').update(recordId).digest('hex').slice(0, 40)}`;
    // An earlier attempt began and never learned its answer: it may have reached Synapse.
    const earlier = known ? await this.findSentByMarker(roomId, sender, matrixTxnId) : null;
    if (!earlier) {
      // Refused as before (after the claim, which stays without an event id, as it always did).
      const refused = await refusal;
      if (refused) throw refused;
    }
    const eventId = earlier ?? (await this.sendWhileChatsOn(conversation, roomId, matrixTxnId, { ...content, [SEND_MARKER]: matrixTxnId }, sender, 'm.room.message', { checked: true }));
    // Announced from the send itself the moment Synapse has the event — before any write of ours,
    // not when the appservice's transaction brings it back (that one is the same event: the
    // publisher's once-key drops it). Its time is ours, a few ms before Synapse's
    // origin_server_ts, which the history shows.
    const message = this.history.toChatMessage(conversation._id, { event_id: eventId, type: 'm.room.message', room_id: roomId, sender, content, origin_server_ts: Date.now() });
    const announced = message ? this.live.messageCreated(conversation, message) : Promise.resolve();
    // Not awaited: the answer does not depend on it. Until it lands (or if it never does), a retry
    // finds the event by its marker instead.
    SentMessageModel.updateOne({ _id: recordId }, { $set: { eventId } }).catch((err) => {
      this.log.warn({ err: (err as Error).message, recordId }, 'could not record the event id of a send');
    });
    await announced;
    return eventId;
  }

  /**
   * Sends into a room of a network whose chats are on. Right after chats are turned back on, the
   * queued fan-out may not have restored this room yet; a refusal then restores the room's saved
   * power levels here and sends again, instead of failing the participant. When no saved copy is
   * left, the fan-out restored the room between the refusal and the lookup: sending again is right
   * then too (a room read-only for any other reason refuses the second send as well).
   */
  async sendWhileChatsOn(
    conversation: Conversation,
    roomId: string,
    txnId: string,
    content: Record<string, unknown>,
    sender: string,
    type = 'm.room.message',
    opts: { checked?: boolean } = {},
  ): Promise<string> {
    // `checked`: the caller has refused a blocked or suspended sender itself (send(), beside its claim).
    if (!opts.checked) await this.refuseBlockedSender(conversation, sender);
    try {
      return await this.api.sendEvent(roomId, type, txnId, content, sender);
    } catch (err) {
      if (!(err instanceof MatrixError && err.errcode === 'M_FORBIDDEN')) throw err;
      await this.access.assertChatsEnabled(conversation.networkId);
      const { existed } = await restoreSavedPowerLevels(this.api, roomId);
      this.log.info({ roomId, restoredHere: existed }, 'send refused after chats were turned on; sending again');
      return this.api.sendEvent(roomId, type, txnId, content, sender);
    }
  }

  /**
   * In a direct conversation, a customer the other participant blocks sends nothing (messages,
   * edits, reactions, files): `recipient_not_reachable`, never why. Matrix clients are refused at
   * the homeserver by the same check (appservice/domain/homeserverRules).
   */
  private async refuseBlockedSender(conversation: Conversation, sender: string): Promise<void> {
    const senderId = conversation.customerIds.find((id) => this.rooms.matrixUserOf({ kind: 'customer', networkId: conversation.networkId, id }) === sender);
    if (!senderId) return;
    const other = conversation.kind === 'direct' ? conversation.customerIds.find((id) => id !== senderId) : undefined;
    const [suspended, blocked] = await Promise.all([
      isChatSuspended(conversation.networkId, senderId),
      other ? isBlockedBy(conversation.networkId, other, senderId) : false,
    ]);
    // Moderation: a suspended customer sends nothing anywhere in the network, and is told so.
    if (suspended) throw new ChatsSuspendedError();
    if (blocked) throw new RecipientNotReachableError();
  }

  /** The sender's recent event that carries this send's marker, if an earlier attempt created it. */
  private async findSentByMarker(roomId: string, sender: string, marker: string): Promise<string | null> {
    const page = await this.api.messages(roomId, sender, {
      limit: MARKER_LOOKBACK,
      dir: 'b',
      filter: { types: ['m.room.message'], senders: [sender] },
    });
    return page.chunk.find((e) => e.content?.[SEND_MARKER] === marker)?.event_id ?? null;
  }
}
