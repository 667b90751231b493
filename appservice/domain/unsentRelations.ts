import { createHash } from 'node:crypto';
import type { Logger } from '../../runtime';
import { MatrixError, type MatrixApi } from '../matrix/matrixApi';


/**
 * An unsent message takes its edits and reactions with it in Matrix too: once the index has applied
 * a message's redaction (from the portal's unsend or a Matrix client), the service bot (the room's
 * creator, who may redact anyone's event) redacts its edits (they carry its text) and every
 * reaction to it. Reactions are found through Synapse's relations API; edits through the index
 * (Synapse stops listing the edits of a redacted message, and only the sender's own edits ever
 * showed). Deterministic transaction ids: a replayed redaction redacts once. Replies are messages
 * of their own and stay.
 */
export class UnsentRelations {
  constructor(
    private readonly api: MatrixApi,
    private readonly log: Logger,
  ) {}

  async redactRelationsOf(roomId: string, messageId: string, editIds: readonly string[]): Promise<number> {
    const reactions = (await this.reactionsTo(roomId, messageId)).filter((e) => !e.unsigned?.redacted_because).map((e) => e.event_id);
    let redacted = 0;
    for (const eventId of [...editIds, ...reactions]) {
      const txnId = `unsent-rel.${createHash('sha256').update(`${roomId}|${eventId}`).digest('hex').slice(0, 40)}`;
      try {
        await this.api.redact(roomId, eventId, txnId, undefined, 'The message was unsent.');
        redacted++;
      } catch (err) {
        // Refused for good (gone, or not ours to redact): nothing to retry, and the room's other
        // events must not wait for it. Synapse being away is retried with the transaction.
        if (!(err instanceof MatrixError && err.status < 500)) throw err;
        this.log.warn({ roomId, eventId, err: err.message }, 'could not redact a relation of an unsent message');
      }
    }
    if (redacted) this.log.info({ roomId, messageId, redacted }, 'redacted the edits and reactions of an unsent message');
    return redacted;
  }

  /**
   * The reactions Synapse lists for the message. A message Synapse does not know (404 "Unknown
   * parent event": purged, or never stored there) has none to redact; like a refused redaction
   * below, that must not hold up the room's other events. Synapse being away is retried.
   */
  private async reactionsTo(roomId: string, messageId: string): Promise<Awaited<ReturnType<MatrixApi['relations']>>> {
    try {
      return await this.api.relations(roomId, messageId, 'm.annotation');
    } catch (err) {
      if (!(err instanceof MatrixError && err.status < 500)) throw err;
      this.log.warn({ roomId, messageId, err: err.message }, 'could not list the reactions of an unsent message');
      return [];
    }
  }
}
