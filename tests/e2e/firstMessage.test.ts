import * as sdk from 'matrix-js-sdk';
import { startServices, uniqueId, eventually, type TestServices } from '../support/harness';

/**
 * The first conversation across every part: host platform -> provisioning -> Synapse -> portal API
 * -> a Matrix client (matrix-js-sdk) and back.
 */
describe('first message end to end', () => {
  let s: TestServices;
  let client: sdk.MatrixClient | undefined;

  beforeAll(async () => {
    s = await startServices();
  });
  afterAll(async () => {
    client?.stopClient();
    await s?.stop();
  });

  test('member A writes to member B through the portal; B answers from a Matrix client', async () => {
    const net = uniqueId('net');
    const service = s.token('service', 'host-platform', net);

    // Host platform: network and two members.
    expect((await s.api('PUT', `/v1/networks/${net}`, service, { name: 'Flex Offices' })).status).toBe(200);
    expect((await s.api('PUT', `/v1/networks/${net}/locations/loc-1`, service, { name: 'Downtown' })).status).toBe(200);
    for (const [cid, name] of [
      ['alice', 'Alice Andersen'],
      ['bob', 'Bob Bauer'],
    ]) {
      const res = await s.api('PUT', `/v1/networks/${net}/customers/${cid}`, service, {
        kind: 'member',
        displayName: name,
        locationIds: ['loc-1'],
        hideNameOnBookings: false,
        status: 'active',
      });
      expect(res.status).toBe(201);
      expect(res.body.provisioningJobId).toContain('customer.');
    }

    // Provisioning: virtual users exist on Synapse with the right display names.
    const matrix = s.all.appservice.services.matrix;
    const aliceId = s.all.appservice.services.virtualUsers.userId({ kind: 'customer', networkId: net, id: 'alice' });
    const bobId = s.all.appservice.services.virtualUsers.userId({ kind: 'customer', networkId: net, id: 'bob' });
    for (const [userId, name] of [
      [aliceId, 'Alice Andersen'],
      [bobId, 'Bob Bauer'],
    ]) {
      // Synapse names a new user after its localpart; the provisioning job then sets the real name.
      const profile = await eventually(`display name of ${userId}`, async () => {
        const p = await matrix.getProfile(userId!);
        return p?.displayname === name ? p : null;
      });
      expect(profile).toEqual({ displayname: name });
    }

    // A opens a direct chat with B and says hello through the portal API.
    const alice = s.token('customer', 'alice', net);
    const chat = await s.api('POST', '/v1/chats', alice, { userId: 'bob', via: { type: 'community' } });
    expect({ status: chat.status, error: chat.body.error }).toEqual({ status: 200, error: undefined });
    expect(chat.body.kind).toBe('direct');
    expect(chat.body.matrixRoomId).toMatch(/^!/);
    const sent = await s.api('POST', `/v1/chats/${chat.body.id}/messages`, alice, { txnId: 'hello-1', body: 'hello' });
    expect(sent.status).toBe(201);

    // B logs in through the portal's matrix-session and sees "hello" in /sync.
    const bob = s.token('customer', 'bob', net);
    const session = await s.api('POST', '/v1/me/matrix-session', bob);
    expect(session.status).toBe(200);
    expect(session.body.userId).toBe(bobId);
    client = sdk.createClient({
      baseUrl: session.body.homeserverUrl,
      accessToken: session.body.accessToken,
      userId: session.body.userId,
      deviceId: session.body.deviceId,
    });
    const seen: Array<{ roomId: string; sender: string; body: string }> = [];
    client.on(sdk.RoomEvent.Timeline, (event, room) => {
      if (event.getType() === 'm.room.message') {
        seen.push({ roomId: room?.roomId ?? '', sender: event.getSender() ?? '', body: event.getContent().body });
      }
    });
    await client.startClient({ initialSyncLimit: 20 });
    const hello = await eventually('hello in /sync', async () => seen.find((m) => m.body === 'hello'));
    expect(hello).toEqual({ roomId: chat.body.matrixRoomId, sender: aliceId, body: 'hello' });

    // B replies from the Matrix client; A reads it through the portal.
    await client.sendTextMessage(chat.body.matrixRoomId, 'hi Alice, from Element');
    const history = await eventually('the reply in the portal history', async () => {
      const res = await s.api('GET', `/v1/chats/${chat.body.id}/messages?limit=10`, alice);
      return res.body.messages?.some((m: { body: string }) => m.body === 'hi Alice, from Element') ? res : null;
    });
    expect(history.status).toBe(200);
    const [newest, older] = history.body.messages;
    expect(newest).toMatchObject({ body: 'hi Alice, from Element', sender: { kind: 'customer', id: 'bob' }, type: 'text' });
    expect(older).toMatchObject({ body: 'hello', sender: { kind: 'customer', id: 'alice' } });

    // A retried send with the same txnId does not create a second "hello".
    const retried = await s.api('POST', `/v1/chats/${chat.body.id}/messages`, alice, { txnId: 'hello-1', body: 'hello' });
    expect(retried.body.id).toBe(sent.body.id);
  });
});
