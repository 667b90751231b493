import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { startServices, eventually, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';

/**
 * Rule 7 through the portal: attachments are checked by content against the network's allowed
 * types and size limit before anything reaches Synapse, and downloads go to participants only.
 */

/** Originals uploaded to Synapse's media repository (thumbnails live elsewhere). */
const MEDIA_DIR = () => join(process.env.TEST_DATA_DIR!, 'synapse', 'media', 'local_content');

function countMediaFiles(dir = MEDIA_DIR()): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) n += countMediaFiles(path);
    else if (statSync(path).size > 0) n++;
  }
  return n;
}

function pdf(text: string): Buffer {
  return Buffer.from(`%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${text}\ntrailer << /Root 1 0 R >>\n%%EOF\n`);
}

/** A real 1x1 PNG. */
function png(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
  const idat = deflateSync(Buffer.from([0, 255, 0, 0, 255]));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** The start of a Windows executable ("MZ" header with a PE signature). */
function exe(): Buffer {
  const b = Buffer.alloc(512);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  return b;
}

describe('attachments', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let chatId: string;
  const LIMIT = 4096;

  beforeAll(async () => {
    s = await startServices();
    n = await createNetwork(s, {
      customers: { alice: { displayName: 'Alice Andersen' }, bob: { displayName: 'Bob Bauer' }, carol: { displayName: 'Carol Chen' } },
      admins: { ada: 'Ada Admin' },
    });
    const settings = await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('ada'), {
      attachments: { allowedTypes: ['application/pdf', 'image/png'], maxBytes: LIMIT },
    });
    expect(settings.body.attachments).toEqual({ allowedTypes: ['application/pdf', 'image/png'], maxBytes: LIMIT });
    chatId = (await s.api('POST', '/v1/chats', n.customer('alice'), { userId: 'bob' })).body.id;
  });
  afterAll(async () => {
    await s?.stop();
  });

  async function upload(token: string, file: Buffer, name: string, txnId?: string, chat = chatId) {
    const form = new FormData();
    if (txnId !== undefined) form.append('txnId', txnId);
    form.append('file', new Blob([new Uint8Array(file)]), name);
    const res = await fetch(`${s.baseUrl}/v1/chats/${chat}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  async function download(token: string, mediaId: string, chat = chatId) {
    const res = await fetch(`${s.baseUrl}/v1/chats/${chat}/media/${mediaId}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, headers: res.headers, data: Buffer.from(await res.arrayBuffer()) };
  }

  const history = async () =>
    (await s.api('GET', `/v1/chats/${chatId}/messages?limit=50`, n.customer('bob'))).body.messages as Array<{
      type: string;
      body: string;
      attachment?: { mediaId: string; mimeType: string; size: number };
    }>;

  test('a PDF and a PNG make the round trip: sent by one participant, listed and downloaded by the other', async () => {
    const contract = pdf('membership contract');
    const mediaBefore = countMediaFiles();
    const sentPdf = await upload(n.customer('alice'), contract, 'contract.pdf', 'att-pdf-1');
    expect(sentPdf.status).toBe(201);
    expect(sentPdf.body.attachment).toMatchObject({ name: 'contract.pdf', mimeType: 'application/pdf', size: contract.length });

    const picture = png();
    const sentPng = await upload(n.customer('alice'), picture, 'floorplan.png', 'att-png-1');
    expect(sentPng.status).toBe(201);
    // The measure the refusal tests rely on: each accepted file lands in Synapse's media store.
    expect(countMediaFiles()).toBe(mediaBefore + 2);

    const messages = await history();
    expect(messages.find((m) => m.body === 'contract.pdf')).toMatchObject({
      type: 'file',
      attachment: { mediaId: sentPdf.body.attachment.mediaId, mimeType: 'application/pdf', size: contract.length },
    });
    expect(messages.find((m) => m.body === 'floorplan.png')).toMatchObject({ type: 'image', attachment: { mimeType: 'image/png' } });

    const gotPdf = await download(n.customer('bob'), sentPdf.body.attachment.mediaId);
    expect(gotPdf.status).toBe(200);
    expect(gotPdf.headers.get('content-type')).toBe('application/pdf');
    expect(gotPdf.headers.get('content-disposition')).toContain('contract.pdf');
    expect(gotPdf.data.equals(contract)).toBe(true);
    const gotPng = await download(n.customer('alice'), sentPng.body.attachment.mediaId);
    expect(gotPng.data.equals(picture)).toBe(true);
  });

  test('a file of exactly the limit is accepted', async () => {
    const base = pdf('exactly at the limit');
    const atLimit = Buffer.concat([base, Buffer.alloc(LIMIT - base.length, 0x20)]);
    const res = await upload(n.customer('alice'), atLimit, 'at-limit.pdf', 'att-limit-1');
    expect(res.status).toBe(201);
    expect(res.body.attachment.size).toBe(LIMIT);
  });

  test('an EXE renamed .pdf is refused by content (415) and nothing is stored', async () => {
    const mediaBefore = countMediaFiles();
    const messagesBefore = (await history()).length;
    const res = await upload(n.customer('alice'), exe(), 'invoice.pdf', 'att-exe-1');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
    expect(countMediaFiles()).toBe(mediaBefore);
    expect((await history()).length).toBe(messagesBefore);
  });

  test('one byte over the limit is refused (413) and nothing is stored', async () => {
    const mediaBefore = countMediaFiles();
    const messagesBefore = (await history()).length;
    const base = pdf('one byte too many');
    const over = Buffer.concat([base, Buffer.alloc(LIMIT + 1 - base.length, 0x20)]);
    const res = await upload(n.customer('alice'), over, 'too-big.pdf', 'att-big-1');
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(countMediaFiles()).toBe(mediaBefore);
    expect((await history()).length).toBe(messagesBefore);
  });

  test('a text file, which has no recognisable content type, is refused and nothing is stored', async () => {
    const mediaBefore = countMediaFiles();
    const messagesBefore = await history();
    const res = await upload(n.customer('alice'), Buffer.from('just some words'), 'notes.pdf', 'att-txt-1');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
    expect(countMediaFiles()).toBe(mediaBefore);
    expect(await history()).toEqual(messagesBefore);
  });

  test('the same txnId sent twice, also concurrently, makes one attachment message and stores the file once', async () => {
    const file = pdf('sent twice');
    const mediaBefore = countMediaFiles();
    const results = await Promise.all([1, 2, 3].map(() => upload(n.customer('alice'), file, 'twice.pdf', 'att-dup-1')));
    const again = await upload(n.customer('alice'), file, 'twice.pdf', 'att-dup-1');
    expect(new Set([...results, again].map((r) => r.body.id)).size).toBe(1);
    expect((await history()).filter((m) => m.body === 'twice.pdf')).toHaveLength(1);
    expect(countMediaFiles()).toBe(mediaBefore + 1);
  });

  test('bad uploads name the failing field', async () => {
    const noTxn = await upload(n.customer('alice'), pdf('x'), 'a.pdf');
    expect(noTxn.status).toBe(400);
    expect(noTxn.body.error.field).toBe('txnId');
    const badTxn = await upload(n.customer('alice'), pdf('x'), 'a.pdf', 'has spaces');
    expect(badTxn.body.error.field).toBe('txnId');
    const json = await s.api('POST', `/v1/chats/${chatId}/attachments`, n.customer('alice'), { file: 'x' });
    expect(json.status).toBe(400);
    expect(json.body.error.field).toBe('file');
  });

  test('downloads are for participants of the conversation that references the media only', async () => {
    const sent = await upload(n.customer('alice'), pdf('private'), 'private.pdf', 'att-private-1');
    const mediaId = sent.body.attachment.mediaId;
    // Carol is not in the conversation: 404, as if it did not exist.
    expect((await download(n.customer('carol'), mediaId)).status).toBe(404);
    // Carol's own conversation does not reference that media.
    const carolChat = (await s.api('POST', '/v1/chats', n.customer('carol'), { userId: 'alice' })).body.id;
    expect((await download(n.customer('carol'), mediaId, carolChat)).status).toBe(404);
    expect((await download(n.customer('alice'), mediaId, carolChat)).status).toBe(404);
    // Unsent attachments cannot be downloaded any more.
    expect((await s.api('DELETE', `/v1/chats/${chatId}/messages/${encodeURIComponent(sent.body.id)}`, n.customer('alice'))).status).toBe(204);
    expect((await download(n.customer('bob'), mediaId)).status).toBe(404);
  });

  test('an attachment sent from a Matrix client can be downloaded through the portal', async () => {
    const { matrix, virtualUsers } = s.all.appservice.services;
    const bobId = virtualUsers.userId({ kind: 'customer', networkId: n.net, id: 'bob' });
    const roomId = (await s.api('GET', `/v1/chats/${chatId}`, n.customer('bob'))).body.matrixRoomId;
    const file = pdf('from element');
    const mxc = await matrix.uploadMedia(file, 'application/pdf', 'element.pdf', bobId);
    await matrix.sendEvent(roomId, 'm.room.message', `element-${Date.now()}`, { msgtype: 'm.file', body: 'element.pdf', url: mxc, info: { mimetype: 'application/pdf', size: file.length } }, bobId);
    const mediaId = mxc.split('/').pop()!;
    // The conversation index learns of the message from Synapse's push: give it a moment.
    const got = await eventually('the download', async () => {
      const res = await download(n.customer('alice'), mediaId);
      return res.status === 200 ? res : null;
    });
    expect(got.data.equals(file)).toBe(true);
  });
});
