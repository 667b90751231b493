import * as sdk from 'matrix-js-sdk';
import { startServices, eventually, type TestServices } from '../support/harness';
import { provisioningEnv, synapseAdminFor, waitForJob } from '../support/provisioningHelpers';
import { createNetwork } from './networkFixture';
import { CustomerModel } from '../../store';

/**
 * DELETE /v1/networks/:nid/customers/:cid: the customer's Matrix account is closed; with erase,
 * their messages are redacted for the other participant (seen from a Matrix client and the portal)
 * and their profile is gone.
 */
describe('deprovisioning a customer', () => {
  let s: TestServices;
  let client: sdk.MatrixClient | undefined;

  beforeAll(async () => {
    s = await startServices(provisioningEnv());
  });
  afterAll(async () => {
    client?.stopClient();
    await s?.stop();
  });

  test('with erase: messages redacted for the other participant, account closed, profile erased', async () => {
    const n = await createNetwork(s, {
      customers: { alice: { displayName: 'Alice Andersen' }, bob: { displayName: 'Bob Bauer' } },
    });
    const users = s.all.appservice.services.virtualUsers;
    const aliceId = users.userId({ kind: 'customer', networkId: n.net, id: 'alice' });
    const chat = await s.api('POST', '/v1/chats', n.customer('alice'), { userId: 'bob', via: { type: 'community' } });
    expect(chat.status).toBe(200);
    for (const [txnId, body] of [['s1', 'my door code is 4711'], ['s2', 'and my phone number']]) {
      expect((await s.api('POST', `/v1/chats/${chat.body.id}/messages`, n.customer('alice'), { txnId, body })).status).toBe(201);
    }
    await s.api('POST', `/v1/chats/${chat.body.id}/messages`, n.customer('bob'), { txnId: 'b1', body: 'noted' });

    // Bob follows the room from a Matrix client.
    const session = await s.api('POST', '/v1/me/matrix-session', n.customer('bob'));
    client = sdk.createClient({
      baseUrl: session.body.homeserverUrl,
      accessToken: session.body.accessToken,
      userId: session.body.userId,
      deviceId: session.body.deviceId,
    });
    await client.startClient({ initialSyncLimit: 20 });
    const aliceEvents = () =>
      client!
        .getRoom(chat.body.matrixRoomId)
        ?.getLiveTimeline()
        .getEvents()
        .filter((e) => e.getSender() === aliceId && e.getType() === 'm.room.message') ?? [];
    await eventually("Alice's two messages on Bob's client", async () => aliceEvents().length === 2);

    const res = await s.api('DELETE', `/v1/networks/${n.net}/customers/alice?erase=true`, n.service);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'deactivated', erase: true });
    const job = await waitForJob(s.baseUrl, n.service, res.body.jobId);
    expect(job).toMatchObject({ state: 'completed', result: { rooms: 1, erased: true } });

    await eventually('the redactions on Bob’s client', async () => aliceEvents().every((e) => e.isRedacted()));
    expect(aliceEvents().map((e) => e.getContent().body)).toEqual([undefined, undefined]);
    const history = await s.api('GET', `/v1/chats/${chat.body.id}/messages?limit=10`, n.customer('bob'));
    expect(history.body.messages.map((m: { body: string }) => m.body)).toEqual(['noted']);

    const matrix = s.all.appservice.services.matrix;
    expect(await matrix.getState(chat.body.matrixRoomId, 'm.room.member', aliceId)).toMatchObject({ membership: 'leave' });
    expect(await synapseAdminFor(s.config).getUser(aliceId)).toMatchObject({ deactivated: true, displayname: null });
    expect(await CustomerModel.findOne({ networkId: n.net, customerId: 'alice' }).lean()).toMatchObject({
      status: 'deactivated',
      displayName: 'Former customer',
      erasedAt: expect.any(Date),
    });
    // Deleting again queues nothing new.
    const again = await s.api('DELETE', `/v1/networks/${n.net}/customers/alice?erase=true`, n.service);
    expect(again.body.jobId).toBe(res.body.jobId);
  });

  test('without erase: the account is closed and the messages stay', async () => {
    const n = await createNetwork(s, {
      customers: { carol: { displayName: 'Carol Chen' }, dave: { displayName: 'Dave Diaz' } },
    });
    const chat = await s.api('POST', '/v1/chats', n.customer('carol'), { userId: 'dave', via: { type: 'community' } });
    await s.api('POST', `/v1/chats/${chat.body.id}/messages`, n.customer('carol'), { txnId: 'c1', body: 'see you at the desk' });

    const res = await s.api('DELETE', `/v1/networks/${n.net}/customers/carol`, n.service);
    expect(res.status).toBe(202);
    expect(await waitForJob(s.baseUrl, n.service, res.body.jobId)).toMatchObject({ state: 'completed', result: { erased: false } });
    const carolId = s.all.appservice.services.virtualUsers.userId({ kind: 'customer', networkId: n.net, id: 'carol' });
    expect(await synapseAdminFor(s.config).getUser(carolId)).toMatchObject({ deactivated: true, displayname: 'Carol Chen' });
    const history = await s.api('GET', `/v1/chats/${chat.body.id}/messages?limit=10`, n.customer('dave'));
    expect(history.body.messages.map((m: { body: string }) => m.body)).toEqual(['see you at the desk']);
  });

  test("unknown customers are 404 and another network's service cannot deprovision", async () => {
    const n = await createNetwork(s, { customers: { erin: { displayName: 'Erin Eze' } } });
    expect((await s.api('DELETE', `/v1/networks/${n.net}/customers/nobody`, n.service)).status).toBe(404);
    const other = s.token('service', 'host-platform', 'another-network');
    expect((await s.api('DELETE', `/v1/networks/${n.net}/customers/erin`, other)).status).toBe(404);
    expect(await CustomerModel.findOne({ networkId: n.net, customerId: 'erin' }).lean()).toMatchObject({ status: 'active' });
  });
});
