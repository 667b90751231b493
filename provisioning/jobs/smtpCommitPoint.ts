import { Readable } from 'node:stream';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';

/**
 * An SMTP send with a commit point. An SMTP server takes responsibility for a message only once
 * the client has sent the final "." of DATA and the server has answered 250; a connection that
 * closes before that "." cancels the transaction (RFC 5321 §3.3, §3.8: as if RSET was received),
 * so nothing is delivered. The one moment a crash leaves the outcome unknown is therefore between
 * writing that "." and learning the server's answer.
 *
 * `sendWithCommitPoint` hands the message to nodemailer as usual, but holds back the end of the
 * message stream (nodemailer writes the "." when the stream ends, after the server's 354) until
 * `beforeFinalDot` has resolved: the caller records there, durably, that the outcome may from now
 * on be unknown. A crash before that record means "not delivered, send again"; after it, "maybe".
 */
export function createMailTransport(smtpUrl: string): Transporter {
  const transport = nodemailer.createTransport(smtpUrl, { connectionTimeout: 10000, greetingTimeout: 10000, socketTimeout: 30000 } as never);
  // After the message is compiled, before the transport reads it (nodemailer's "stream" step).
  transport.use('stream', (mail, done) => {
    const message = mail.message as unknown as { messageId(): string; createReadStream(): Readable };
    const hook = commitPoints.get(message.messageId());
    if (hook) {
      const compiled = message.createReadStream.bind(message);
      // Read lazily: the SMTP connection pipes this stream only after the server's 354.
      message.createReadStream = () => Readable.from(heldBack(compiled(), hook), { objectMode: false });
    }
    done();
  });
  return transport;
}

/** An SMTP error the server answered with a reply code: it said it did not take the message. */
export function serverRefused(err: unknown): boolean {
  return typeof (err as { responseCode?: unknown })?.responseCode === 'number';
}

const commitPoints = new Map<string, () => Promise<void>>();

export async function sendWithCommitPoint(transport: Transporter, message: SendMailOptions & { messageId: string }, beforeFinalDot: () => Promise<void>): Promise<{ committed: boolean }> {
  const state = { committed: false };
  commitPoints.set(message.messageId, async () => {
    await beforeFinalDot();
    state.committed = true;
  });
  try {
    await transport.sendMail(message);
    if (!state.committed) throw new Error('the message was sent without passing its commit point');
    return state;
  } catch (err) {
    throw Object.assign(err instanceof Error ? err : new Error(String(err)), { committed: state.committed });
  } finally {
    commitPoints.delete(message.messageId);
  }
}

async function* heldBack(source: Readable, beforeEnd: () => Promise<void>): AsyncGenerator<Buffer> {
  for await (const chunk of source) yield typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
  await beforeEnd();
}
