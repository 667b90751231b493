import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { createMailTransport, sendWithCommitPoint } from '../../provisioning/jobs/smtpCommitPoint';
import { createDeliveryLookup } from '../../provisioning/jobs/smtpDeliveryLookup';
import { mailpitUrl } from '../support/mailpit';

/**
 * The delivery lookup (provisioning/jobs/smtpDeliveryLookup.ts) against the test stack's Mailpit:
 * a message is found by its Message-ID the moment its 250 has arrived (Mailpit stores it before it
 * answers), only the exact id counts, and a provider that cannot be asked throws instead of
 * answering "absent".
 */
describe('asking Mailpit whether it accepted a message', () => {
  const smtpUrl = process.env.SMTP_URL;
  if (!smtpUrl) throw new Error('SMTP_URL is not set (the test stack starts Mailpit)');
  const transport = createMailTransport(smtpUrl);
  const lookup = createDeliveryLookup(`mailpit+${mailpitUrl()}`)!;
  afterAll(() => transport.close());

  const send = (messageId: string) =>
    sendWithCommitPoint(transport, { from: 'Lookup <noreply@lookup.test>', to: `lookup-${randomUUID()}@lookup.test`, subject: 'lookup', text: 'lookup\n', messageId }, async () => undefined);

  test('found right after the 250, every time (no indexing delay); an id never sent is absent', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 20; i++) {
      const messageId = `<${randomUUID()}@lookup.test>`;
      // Before the send: absent; the first question after sendMail resolved (the 250): accepted.
      answers.push(await lookup.find(messageId));
      await send(messageId);
      answers.push(await lookup.find(messageId));
    }
    expect(answers).toEqual(Array.from({ length: 20 }, () => ['absent', 'accepted']).flat());
  });

  test('only the exact Message-ID counts (Mailpit matches parts of it)', async () => {
    const id = randomUUID();
    await send(`<${id}-longer@lookup.test>`);
    expect(await lookup.find(`<${id}-longer@lookup.test>`)).toBe('accepted');
    expect(await lookup.find(`<${id}@lookup.test>`)).toBe('absent');
    expect(await lookup.find(`<${id}-longer@lookup>`)).toBe('absent');
  });

  test('a provider that cannot be asked throws: unreachable, or an error answer', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(createDeliveryLookup(`mailpit+http://127.0.0.1:${port}`)!.find('<x@lookup.test>')).rejects.toThrow();
    // Mailpit answers 404 under a path that is not its API.
    await expect(createDeliveryLookup(`mailpit+${mailpitUrl()}/not-the-api`)!.find('<x@lookup.test>')).rejects.toThrow(/answered 404/);
    await expect(lookup.find('<two words@lookup.test>')).rejects.toThrow(/cannot look up/);
  });

  test('no URL: no lookup; an unknown scheme is refused', () => {
    expect(createDeliveryLookup(undefined)).toBeNull();
    expect(() => createDeliveryLookup('mailgun+https://api.mailgun.net')).toThrow(/unknown scheme/);
  });
});
