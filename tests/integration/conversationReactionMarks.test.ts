import { addToReactionSet, connectDatabase, ConversationReactionMarksModel, disconnectDatabase, reactedMessagesOf, REACTION_MARKS_LIMIT, removeFromReactionSet, takeReactionSet } from '../../store';
import { uniqueId } from '../support/harness';

/**
 * conversation_reaction_marks on the real FerretDB/MongoDB: the reaction-set writes keep each
 * conversation's list of reacted messages (what a history page reads beside its Synapse call), and
 * a conversation with too many falls back to 'all'.
 */
describe('conversation reaction marks', () => {
  beforeAll(async () => {
    await connectDatabase(process.env.MONGODB_URI!);
  });
  afterAll(async () => {
    await disconnectDatabase();
  });

  const reaction = (id: string, n: number) => ({ eventId: `$${id}-r${n}`, key: '👍', senderMatrixId: `@u${n}:localhost` });

  test('a message is listed with its first reaction and taken off with its last, or when unsent', async () => {
    const chatId = uniqueId('marks');
    expect(await reactedMessagesOf(chatId)).toEqual(new Set());
    await addToReactionSet(`$${chatId}-m1`, chatId, reaction(chatId, 1));
    await addToReactionSet(`$${chatId}-m1`, chatId, reaction(chatId, 2));
    await addToReactionSet(`$${chatId}-m2`, chatId, reaction(chatId, 3));
    expect(await reactedMessagesOf(chatId)).toEqual(new Set([`$${chatId}-m1`, `$${chatId}-m2`]));
    await removeFromReactionSet(`$${chatId}-m1`, `$${chatId}-r1`);
    expect(await reactedMessagesOf(chatId)).toEqual(new Set([`$${chatId}-m1`, `$${chatId}-m2`]));
    await removeFromReactionSet(`$${chatId}-m1`, `$${chatId}-r2`);
    expect(await reactedMessagesOf(chatId)).toEqual(new Set([`$${chatId}-m2`]));
    expect(await takeReactionSet(`$${chatId}-m2`)).toEqual([`$${chatId}-r3`]);
    expect(await reactedMessagesOf(chatId)).toEqual(new Set());
  });

  test(`past ${REACTION_MARKS_LIMIT} reacted messages the conversation answers 'all' and stays so`, async () => {
    const chatId = uniqueId('marks-full');
    const full = Array.from({ length: REACTION_MARKS_LIMIT }, (_, i) => `$${chatId}-m${i}`);
    await ConversationReactionMarksModel.updateOne({ _id: chatId }, { $set: { messageIds: full } }, { upsert: true });
    expect(((await reactedMessagesOf(chatId)) as Set<string>).size).toBe(REACTION_MARKS_LIMIT);
    await addToReactionSet(`$${chatId}-one-more`, chatId, reaction(chatId, 1));
    expect(await reactedMessagesOf(chatId)).toBe('all');
    await removeFromReactionSet(`$${chatId}-one-more`, `$${chatId}-r1`);
    expect(await reactedMessagesOf(chatId)).toBe('all');
    await ConversationReactionMarksModel.deleteOne({ _id: chatId });
  });
});
