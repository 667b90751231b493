import type { Logger } from '../../runtime';
import { activeAdministrators, ConversationModel } from '../../store';
import { isAliasTaken, MatrixError, type MatrixApi } from '../matrix/matrixApi';
import { roomAliasLocalpart } from '../matrix/roomAliases';
import type { VirtualUserService } from '../matrix/virtualUserService';
import type { Actor, Conversation } from './conversation';
import { rememberConversationRoom } from '../../store';

const ROOM_READY_WAIT_MS = 15000;

/**
 * Room version 12: the creator (the service bot) holds unlimited power that no power-level event
 * can take away, so the chats toggle and room settings stay the service's even if a participant's
 * Matrix client tries to change them.
 */
export const CONVERSATION_ROOM_VERSION = '12';

/** Power levels of every conversation room: participants talk; settings need the creator (bot). */
export function roomPowerLevels(): Record<string, unknown> {
  return {
    users: {},
    users_default: 0,
    events_default: 0,
    state_default: 100,
    invite: 100,
    kick: 100,
    ban: 100,
    // Everyone may redact their own events regardless; redacting others' needs 100.
    redact: 100,
    events: {
      'm.room.message': 0,
      'm.reaction': 0,
      'm.room.redaction': 0,
      'm.room.name': 100,
      'm.room.topic': 100,
      'm.room.avatar': 100,
      'm.room.power_levels': 100,
      'm.room.history_visibility': 100,
      'm.room.encryption': 100,
      'm.room.tombstone': 100,
    },
    notifications: { room: 100 },
  };
}

/**
 * Conversation rooms: exactly one Matrix room per conversation, created by the appservice bot
 * (whose creator power lets the service, not the participants, control room settings), with every
 * participant joined.
 */
export class ConversationRooms {
  constructor(
    private readonly api: MatrixApi,
    private readonly virtualUsers: VirtualUserService,
    private readonly domain: string,
    private readonly log: Logger,
    /** The installation's secret the room aliases are keyed with (matrix/roomAliases.ts). */
    private readonly aliasSecret: string,
  ) {}

  matrixUserOf(actor: Actor): string {
    return this.virtualUsers.userId({ kind: actor.kind, networkId: actor.networkId, id: actor.id });
  }

  /**
   * What everything the actor does in a conversation starts with: the room exists, and the actor's
   * virtual user is in it (an administrator joins a support room on first use).
   */
  async enterRoom(conversation: Conversation, actor: Actor): Promise<{ roomId: string; userId: string }> {
    const { roomId } = await this.ensureRoom(conversation);
    const userId = this.matrixUserOf(actor);
    if (actor.kind === 'admin') await this.ensureJoined(roomId, userId);
    return { roomId, userId };
  }

  /**
   * Makes sure the conversation has its Matrix room with every participant joined. The room alias
   * is derived from the conversation key, so even two processes (or a crash and a retry) end with
   * one room: Synapse refuses the second alias and we adopt the room it points to.
   */
  async ensureRoom(conversation: Conversation): Promise<Conversation & { roomId: string }> {
    if (conversation.roomId) return conversation as Conversation & { roomId: string };
    const members = await this.participantUserIds(conversation);
    const aliasLocalpart = roomAliasLocalpart(this.aliasSecret, conversation.kind === 'direct' ? 'd' : 's', conversation.key);
    let roomId: string;
    try {
      roomId = await this.api.createRoom({
        preset: 'private_chat',
        visibility: 'private',
        room_version: CONVERSATION_ROOM_VERSION,
        room_alias_name: aliasLocalpart,
        invite: members,
        is_direct: conversation.kind === 'direct',
        ...(conversation.kind === 'support' ? { name: 'Support' } : {}),
        initial_state: [
          { type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'shared' } },
          { type: 'm.room.guest_access', state_key: '', content: { guest_access: 'forbidden' } },
        ],
        power_level_content_override: roomPowerLevels(),
      });
    } catch (err) {
      if (!isAliasTaken(err)) throw err;
      const existing = await this.waitForAlias(`#${aliasLocalpart}:${this.domain}`);
      roomId = existing;
      await Promise.all(members.map((m) => this.api.invite(roomId, m)));
    }
    await Promise.all(members.map((m) => this.ensureJoined(roomId, m)));
    // Set only where none is stored yet. Two processes racing here adopted the same room through
    // the alias above.
    let stored = await ConversationModel.findById(conversation._id).lean<Conversation>();
    if (stored && !stored.roomId) {
      await ConversationModel.updateOne({ _id: conversation._id }, { $set: { roomId } });
      stored = { ...stored, roomId };
    }
    if (stored?.roomId) rememberConversationRoom(stored.roomId, conversation._id);
    this.log.info({ chatId: conversation._id, roomId: stored?.roomId }, 'conversation room ready');
    return { ...conversation, roomId: stored?.roomId ?? roomId };
  }

  private async waitForAlias(alias: string): Promise<string> {
    const deadline = Date.now() + ROOM_READY_WAIT_MS;
    for (;;) {
      const roomId = await this.api.resolveAlias(alias);
      if (roomId) return roomId;
      if (Date.now() > deadline) throw new Error(`alias ${alias} is taken but does not resolve`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async ensureJoined(roomId: string, userId: string, registered = false): Promise<void> {
    try {
      await this.api.join(roomId, userId);
    } catch (err) {
      // Provisioning has not reached this person yet: register the virtual user now (idempotent;
      // the queued job still sets the profile), then try once more.
      if (!registered && err instanceof MatrixError && err.status === 403 && /not registered this user/.test(err.message)) {
        await this.api.registerVirtualUser(userId.slice(1, userId.indexOf(':')));
        return this.ensureJoined(roomId, userId, true);
      }
      // Not invited yet (e.g. an administrator added after the room was made): invite, then join.
      if (err instanceof MatrixError && err.status === 403) {
        await this.api.invite(roomId, userId);
        await this.api.join(roomId, userId);
        return;
      }
      throw err;
    }
  }

  private async participantUserIds(conversation: Conversation): Promise<string[]> {
    const customers = conversation.customerIds.map((id) => this.virtualUsers.userId({ kind: 'customer', networkId: conversation.networkId, id }));
    if (conversation.kind === 'direct') return customers;
    const admins = await activeAdministrators(conversation.networkId);
    return [...customers, ...admins.map((a) => a.matrixUserId)];
  }
}
