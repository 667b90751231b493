import type { Migration } from './migration';

/** The limit of store/messageReactionSets.ts on the day of this migration. */
const MARKS_LIMIT = 5000;

/**
 * conversation_reaction_marks: per conversation, the messages that have a reaction set, which a
 * history page reads beside its Synapse call. Built once from the sets written before this
 * release; each conversation's list is written whole, so a second run writes the same lists.
 */
export const migration: Migration = {
  id: '0005',
  name: 'conversation-reaction-marks',
  async up(db) {
    const reacted = new Map<string, string[]>();
    for await (const set of db.collection<{ _id: string; chatId: string }>('message_reaction_sets').find({}, { projection: { chatId: 1 } }).sort({ _id: 1 })) {
      const ids = reacted.get(set.chatId) ?? [];
      ids.push(set._id);
      reacted.set(set.chatId, ids);
    }
    const marks = db.collection<{ _id: string; messageIds: string[]; overflow: boolean }>('conversation_reaction_marks');
    for (const [chatId, messageIds] of reacted) {
      const listed = messageIds.length > MARKS_LIMIT ? { messageIds: [], overflow: true } : { messageIds, overflow: false };
      await marks.updateOne({ _id: chatId }, { $set: listed }, { upsert: true });
    }
  },
};
