import { eventually, startServices, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';

const MESSAGES = 1000;

/** Safety: a data access request exports everything the customer sent, complete against Synapse's own history. */
describe("exporting a customer's data", () => {
  let s: TestServices;
  let n: NetworkFixture;
  let other: NetworkFixture;

  beforeAll(async () => {
    s = await startServices();
    n = await createNetwork(s, { customers: { ada: { displayName: 'Ada' }, bo: { displayName: 'Bo' } } });
    other = await createNetwork(s, { customers: { eve: { displayName: 'Eve' } } });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test(`${MESSAGES} messages, an edit, a block and both conversations; downloadable once, by the one who asked`, async () => {
    const direct = (await s.api('POST', '/v1/chats', n.customer('ada'), { userId: 'bo' })).body;
    const support = (await s.api('POST', '/v1/chats/support', n.customer('ada'))).body;
    const matrix = s.all.appservice.services.matrix;
    const ada = s.all.appservice.services.virtualUsers.userId({ kind: 'customer', networkId: n.net, id: 'ada' });
    // Sent straight on Synapse as Ada's virtual user (what any Matrix client of hers would do), 16 at a time.
    const ids: string[] = [];
    for (let i = 0; i < MESSAGES; i += 16) {
      ids.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(16, MESSAGES - i) }, (_, j) =>
            matrix.sendEvent(i + j < MESSAGES / 2 ? direct.matrixRoomId : support.matrixRoomId, 'm.room.message', `exp-${i + j}`, { msgtype: 'm.text', body: `message ${i + j}` }, ada),
          ),
        )),
      );
    }
    const edited = await s.api('POST', `/v1/chats/${direct.id}/messages`, n.customer('ada'), { txnId: 'to-edit', body: 'typo' });
    expect((await s.api('PATCH', `/v1/chats/${direct.id}/messages/${encodeURIComponent(edited.body.id)}`, n.customer('ada'), { body: 'fixed' })).status).toBe(200);
    expect((await s.api('POST', `/v1/chats/${direct.id}/messages`, n.customer('bo'), { txnId: 'bo-1', body: 'not Ada\'s' })).status).toBe(201);
    expect((await s.api('PUT', '/v1/me/blocks/bo', n.customer('ada'))).status).toBe(204);

    expect((await s.api('POST', `/v1/networks/${n.net}/customers/nobody/export`, n.service)).status).toBe(404);
    expect((await s.api('POST', `/v1/networks/${n.net}/customers/ada/export`, other.service)).status).toBe(404);
    const asked = await s.api('POST', `/v1/networks/${n.net}/customers/ada/export`, n.service);
    expect(asked.status).toBe(202);
    const started = Date.now();
    const job = await eventually('the export job done', async () => {
      const res = await s.api('GET', `/v1/jobs/${encodeURIComponent(asked.body.jobId)}`, n.service);
      return res.body.state === 'completed' && res.body;
    }, 60000);
    const tookMs = Date.now() - started;
    expect(job.result).toMatchObject({ exportId: asked.body.exportId, download: asked.body.download });

    // Another caller (another network's host platform) cannot download it.
    expect((await s.api('GET', asked.body.download, other.service)).status).toBe(404);
    const res = await fetch(`${s.baseUrl}${asked.body.download}`, { headers: { authorization: `Bearer ${n.service}` } });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { customer: { customerId: string }; blocks: Array<{ customerId: string }>; conversations: Array<{ id: string }>; messages: Array<{ id: string; body: string | null; editOf?: string }> };
    expect(doc.customer.customerId).toBe('ada');
    expect(doc.blocks.map((b) => b.customerId)).toEqual(['bo']);
    expect(doc.conversations.map((c) => c.id).sort()).toEqual([direct.id, support.id].sort());

    // Complete against Synapse's own history of Ada's messages in both rooms.
    const synapseIds: string[] = [];
    for (const room of [direct.matrixRoomId, support.matrixRoomId]) {
      let from: string | undefined;
      for (;;) {
        const page = await matrix.messages(room, ada, { dir: 'f', limit: 1000, from, filter: { senders: [ada], types: ['m.room.message'] } });
        synapseIds.push(...page.chunk.map((e) => e.event_id));
        if (!page.end || page.chunk.length === 0) break;
        from = page.end;
      }
    }
    expect(doc.messages.map((m) => m.id).sort()).toEqual(synapseIds.sort());
    expect(doc.messages.length).toBe(MESSAGES + 2);
    expect(doc.messages.find((m) => m.editOf === edited.body.id)?.body).toBe('fixed');
    expect(doc.messages.some((m) => m.body === "not Ada's")).toBe(false);
    expect(ids.every((id) => doc.messages.some((m) => m.id === id))).toBe(true);
    expect(tookMs).toBeLessThan(60000);

    // Once only.
    expect((await s.api('GET', asked.body.download, n.service)).status).toBe(410);
  }, 180000);
});
