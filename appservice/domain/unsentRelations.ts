import { createHash } from 'node:crypto';
import type { Logger } from '../../runtime';
import type { MatrixApi } from '../matrix/matrixApi';

/** Relations an unsent message takes with it: its edits (they carry its text) and its reactions. */
const RELATION_TYPES = ['m.replace', 'm.annotation'] as const;

/**
 * An unsent message takes its edits and reactions with it in Matrix too: once the index has applied
 * a message's redaction (from the portal's unsend or a Matrix client), the service bot (the room's
 * creator, who may redact anyone's event) redacts every edit and reaction of it, found through
 * Synapse's relations API. Deterministic transaction ids: a replayed redaction redacts once.
 * Replies are messages of their own and stay.
 */
export class UnsentRelations {
  constructor(
    private readonly api: MatrixApi,
    private readonly log: Logger,
  ) {}

  async redactRelationsOf(roomId: string, messageId: string): Promise<number> {
    let redacted = 0;
    for (const relType of RELATION_TYPES) {
      for (const event of await this.api.relations(roomId, messageId, relType)) {
        if (event.unsigned?.redacted_because) continue;
        const txnId = `unsent-rel.${createHash('sha256').update(`${roomId}|${event.event_id}`).digest('hex').slice(0, 40)}`;
        await this.api.redact(roomId, event.event_id, txnId, undefined, 'The message was unsent.');
        redacted++;
      }
    }
    if (redacted) this.log.info({ roomId, messageId, redacted }, 'redacted the edits and reactions of an unsent message');
    return redacted;
  }
}
