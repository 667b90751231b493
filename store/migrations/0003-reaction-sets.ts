import type { Migration } from './migration';

/**
 * message_reaction_sets: the reactions standing on each message, by message, which history pages
 * read (one query by `_id` per page). Reactions indexed before this release are gathered into their
 * messages' sets once; a reaction already in its set is not added twice.
 */
export const migration: Migration = {
  id: '0003',
  name: 'reaction-sets',
  async up(db) {
    type Standing = { eventId: string; key: string; senderMatrixId: string };
    const sets = db.collection<{ _id: string; chatId: string; reactions: Standing[] }>('message_reaction_sets');
    const reactions = db.collection<{ _id: string; messageId: string; chatId: string; key: string; senderMatrixId: string; at: Date }>('message_reactions');
    for await (const r of reactions.find({}).sort({ at: 1, _id: 1 })) {
      // Read, then the whole set written (FerretDB does not match `reactions.eventId` as MongoDB does).
      const set = await sets.findOne({ _id: r.messageId });
      if (set?.reactions.some((c) => c.eventId === r._id)) continue;
      const reaction = { eventId: r._id, key: r.key, senderMatrixId: r.senderMatrixId };
      await sets.updateOne({ _id: r.messageId }, { $set: { chatId: r.chatId, reactions: [...(set?.reactions ?? []), reaction] } }, { upsert: true });
    }
  },
};
