import { randomUUID } from 'node:crypto';
import { createMailTransport, sendWithCommitPoint } from '../../provisioning/jobs/smtpCommitPoint';
import { eventually } from '../support/harness';
import { mailTo } from '../support/mailpit';

/**
 * The commit point of an SMTP send (provisioning/jobs/smtpCommitPoint.ts), against the test stack's
 * Mailpit: the message's final "." waits for the caller's record, so until then the server has
 * nothing, and a record that fails aborts the transaction with nothing delivered.
 */
describe('SMTP send with a commit point', () => {
  const smtpUrl = process.env.SMTP_URL;
  if (!smtpUrl) throw new Error('SMTP_URL is not set (the test stack starts Mailpit)');
  const transport = createMailTransport(smtpUrl);
  afterAll(() => transport.close());

  const message = (to: string, subject: string) => ({
    from: 'Commit Point <noreply@commit.test>',
    to,
    subject,
    text: `${subject}\n`,
    messageId: `<${randomUUID()}@commit.test>`,
  });

  test('the server has nothing until the commit point is recorded, then exactly the one message', async () => {
    const to = `commit-${randomUUID()}@commit.test`;
    const m = message(to, 'held until recorded');
    let seenAtCommitPoint: number | null = null;
    const sent = await sendWithCommitPoint(transport, m, async () => {
      // The envelope and the whole body are with the server by now; only the "." is missing.
      seenAtCommitPoint = (await mailTo(to)).length;
    });
    expect(sent.committed).toBe(true);
    expect(seenAtCommitPoint).toBe(0);
    const arrived = await eventually('the message in Mailpit', async () => {
      const got = await mailTo(to);
      return got.length > 0 && got;
    });
    expect(arrived.map((x) => x.Subject)).toEqual(['held until recorded']);
  });

  test('a commit point that cannot be recorded aborts the transaction: nothing is delivered', async () => {
    const to = `abort-${randomUUID()}@commit.test`;
    const failed = await sendWithCommitPoint(transport, message(to, 'never delivered'), async () => {
      throw new Error('the store refused the record');
    }).catch((err: Error & { committed?: boolean }) => err);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as { committed?: boolean }).committed).toBe(false);
    // A later message on a new connection: once it is in, the aborted one would have been too.
    await sendWithCommitPoint(transport, message(to, 'the marker after'), async () => undefined);
    const arrived = await eventually('the marker in Mailpit', async () => {
      const got = await mailTo(to);
      return got.some((x) => x.Subject === 'the marker after') && got;
    });
    expect(arrived.map((x) => x.Subject)).toEqual(['the marker after']);
  });
});
