import { testConfig, uniqueId } from '../support/harness';
import { connectDatabase, disconnectDatabase, SupportInboxHeadModel } from '../../store';
import { noteSupportActivity, readHead } from '../../appservice/domain/supportInbox';

/**
 * The support inbox's head under concurrent writers: every support room of a network indexed side
 * by side (the appservice's room lanes) must leave every conversation in the head, in order.
 * FerretDB applies a compare-and-set as read-change-write, which lost all but one of them.
 */
describe('support inbox head', () => {
  beforeAll(async () => {
    await connectDatabase(testConfig().mongodbUri);
  });
  afterAll(async () => {
    await disconnectDatabase();
  });

  test('30 support conversations active at once all reach the head, newest first', async () => {
    const networkId = uniqueId('inbox');
    await readHead(networkId);
    const base = Date.now();
    const chats = Array.from({ length: 30 }, (_, i) => ({ chatId: `${networkId}-chat-${String(i).padStart(2, '0')}`, at: new Date(base + i * 1000) }));
    await Promise.all(chats.map((c) => noteSupportActivity(networkId, c.chatId, c.at, [`cust-${c.chatId}`])));
    const head = await SupportInboxHeadModel.findById(networkId).lean<{ entries: Array<{ chatId: string }>; version: number }>();
    expect(head!.entries.map((e) => e.chatId)).toEqual(chats.map((c) => c.chatId).reverse());
    expect(head!.version).toBe(30);
  });
});
