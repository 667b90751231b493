import { startServices, eventually, type TestServices } from '../support/harness';
import { AppserviceTransactionModel, ProcessedEventModel } from '../../store';

/** The listener Synapse pushes to: authentication, durability and de-duplication. */
describe('appservice transaction listener', () => {
  let s: TestServices;
  beforeAll(async () => {
    s = await startServices();
  });
  afterAll(async () => {
    await s?.stop();
  });

  const push = (txnId: string, token: string | null, body: unknown) =>
    fetch(`${s.config.appservice.url}/_matrix/app/v1/transactions/${txnId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });

  test('refuses a missing or wrong hs_token and stores nothing', async () => {
    const txnId = `t-auth-${Date.now()}`;
    expect((await push(txnId, null, { events: [] })).status).toBe(401);
    const wrong = await push(txnId, 'not-the-token', { events: [] });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toEqual({ errcode: 'M_FORBIDDEN', error: 'bad hs_token' });
    expect(await AppserviceTransactionModel.exists({ _id: txnId })).toBeNull();
  });

  test('a transaction re-sent by Synapse is stored and applied once', async () => {
    const txnId = `t-dup-${Date.now()}`;
    const event = {
      event_id: `$dup-${Date.now()}`,
      room_id: '!not-a-conversation:localhost',
      type: 'm.room.message',
      sender: '@someone:localhost',
      origin_server_ts: Date.now(),
      content: { msgtype: 'm.text', body: 'hi' },
    };
    const hsToken = s.all.appservice.services.registration.hsToken;
    for (let i = 0; i < 3; i++) {
      const res = await push(txnId, hsToken, { events: [event] });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({});
    }
    expect(await AppserviceTransactionModel.countDocuments({ _id: txnId })).toBe(1);
    await eventually('the transaction to be processed', async () => (await AppserviceTransactionModel.findById(txnId).lean())?.processedAt);
    expect(await ProcessedEventModel.countDocuments({ _id: event.event_id })).toBe(1);
  });
});
