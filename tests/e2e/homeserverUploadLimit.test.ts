import { startServices, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';

/** No network's attachment limit reaches past what Synapse stores (its max_upload_size). */
describe("the homeserver's upload limit caps every network's", () => {
  let s: TestServices;
  let n: NetworkFixture;
  const MiB = 1024 * 1024;

  beforeAll(async () => {
    // A ceiling above Synapse's 100M, as an operator might configure it by mistake.
    s = await startServices({ ATTACHMENT_MAX_BYTES_CEILING: String(200 * MiB) });
    n = await createNetwork(s, { admins: { 'admin-1': 'Admin One' } });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test('Synapse says how much it stores', async () => {
    expect(await s.all.portalApi.deps.services.attachments.homeserverUploadLimit()).toBe(100 * MiB);
  });

  test('a limit above it is a 400 that names it; the limit itself is accepted', async () => {
    const settings = (maxBytes: number) => s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('admin-1'), { attachments: { maxBytes } });
    const above = await settings(150 * MiB);
    expect({ status: above.status, code: above.body.error?.code }).toEqual({ status: 400, code: 'invalid_request' });
    expect(above.body.error.message).toContain(String(100 * MiB));
    expect((await settings(100 * MiB)).status).toBe(200);
  });
});
