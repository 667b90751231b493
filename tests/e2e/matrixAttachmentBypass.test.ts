import { startServices, eventually, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';
import { IndexedMessageModel } from '../../store';
import { matrixRequest } from '../support/matrixRequest';

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);
/** A Windows executable (MZ header), as a Matrix client would upload it under a harmless name. */
const EXE = Buffer.concat([Buffer.from('4d5a90000300000004000000ffff0000', 'hex'), Buffer.alloc(512, 1)]);
const CHECK_TIMEOUT_MS = 1500;

/**
 * Rule 7 holds for every place a Matrix event can reference media, not only `url` of m.file: an
 * executable hidden in an edit, a text's `url`, a thumbnail, an `<img>`, a sticker, and media that
 * never arrives (reserved, never uploaded) are all removed within seconds.
 */
describe('attachments from Matrix clients: every media reference is checked', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let ada: { homeserverUrl: string; userId: string; accessToken: string };
  let roomId: string;

  const matrix = async (method: string, path: string, body?: unknown, raw?: { data: Buffer; type: string }) =>
    (await matrixRequest<Record<string, any>>(ada, method, path, body, raw)).body!;
  const upload = async (data: Buffer, name: string, type: string) =>
    String((await matrix('POST', `/_matrix/media/v3/upload?filename=${encodeURIComponent(name)}`, undefined, { data, type })).content_uri);
  let txn = 0;
  const send = async (type: string, content: Record<string, unknown>) =>
    String((await matrix('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/${type}/t${Date.now()}-${txn++}`, content)).event_id);
  const isRedacted = async (eventId: string) => {
    const event = await matrix('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`);
    return Boolean(event.unsigned?.redacted_because);
  };

  beforeAll(async () => {
    s = await startServices({ ATTACHMENT_CHECK_TIMEOUT_MS: String(CHECK_TIMEOUT_MS) });
    n = await createNetwork(s, { customers: { ada: { displayName: 'Ada' }, bo: { displayName: 'Bo' } } });
    ada = (await s.api('POST', '/v1/me/matrix-session', n.customer('ada'))).body;
    roomId = (await s.api('POST', '/v1/chats', n.customer('ada'), { userId: 'bo' })).body.matrixRoomId;
  });
  afterAll(async () => {
    await s?.stop();
  });

  test('a picture the network accepts stays (positive control)', async () => {
    const png = await upload(PNG, 'dot.png', 'image/png');
    const ok = await send('m.room.message', { msgtype: 'm.image', body: 'dot.png', url: png, info: { mimetype: 'image/png', thumbnail_url: png } });
    const later = await send('m.room.message', { msgtype: 'm.text', body: 'after the picture' });
    // Events of a room are applied in order: once the later text is indexed, the picture was checked.
    await eventually('the text after the picture to be indexed', async () => {
      const list = await s.api('GET', '/v1/chats', n.customer('bo'));
      return list.body.chats.some((c: { lastMessage?: { id: string } }) => c.lastMessage?.id === later);
    });
    expect(await isRedacted(ok)).toBe(false);
  });

  test('an executable in an edit, a text url, a thumbnail, an <img> or a sticker is removed', async () => {
    const exe = await upload(EXE, 'invoice.pdf', 'application/pdf');
    const png = await upload(PNG, 'dot.png', 'image/png');
    const original = await send('m.room.message', { msgtype: 'm.text', body: 'see attached' });
    const sneaky = {
      edit: await send('m.room.message', {
        msgtype: 'm.text',
        body: '* see attached',
        'm.new_content': { msgtype: 'm.file', body: 'invoice.pdf', url: exe },
        'm.relates_to': { rel_type: 'm.replace', event_id: original },
      }),
      textUrl: await send('m.room.message', { msgtype: 'm.text', body: 'invoice.pdf', url: exe }),
      thumbnail: await send('m.room.message', { msgtype: 'm.image', body: 'dot.png', url: png, info: { mimetype: 'image/png', thumbnail_url: exe } }),
      img: await send('m.room.message', { msgtype: 'm.text', body: 'look', format: 'org.matrix.custom.html', formatted_body: `<p>look <img src="${exe}" alt="x"></p>` }),
      sticker: await send('m.sticker', { body: 'sticker', url: exe, info: { mimetype: 'image/png' } }),
    };
    for (const [what, eventId] of Object.entries(sneaky)) {
      await eventually(`the ${what} to be removed`, () => isRedacted(eventId), 20000);
    }
    expect(await isRedacted(original)).toBe(false);
  });

  test('media that never arrives is refused after the check timeout, and the room goes on', async () => {
    const reserved = String((await matrix('POST', '/_matrix/media/v1/create')).content_uri);
    expect(reserved).toMatch(/^mxc:\/\//);
    const started = Date.now();
    const waiting = await send('m.room.message', { msgtype: 'm.file', body: 'later.pdf', url: reserved });
    const next = await send('m.room.message', { msgtype: 'm.text', body: 'the room goes on' });
    await eventually('the never-uploaded file to be removed', () => isRedacted(waiting), 20000);
    // Removed once the check gave up (not at once, not after Synapse's own ~20 s wait).
    const tookMs = Date.now() - started;
    expect(tookMs).toBeGreaterThanOrEqual(CHECK_TIMEOUT_MS - 100);
    expect(tookMs).toBeLessThan(CHECK_TIMEOUT_MS + 8000);
    await eventually('the next message to be indexed', async () => (await IndexedMessageModel.exists({ _id: next })) !== null);
  });
});
