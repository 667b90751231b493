import { LRUCache } from 'lru-cache';
import { MatrixError, type MatrixApi, type MatrixEvent } from '../matrix/matrixApi';
import { creatorsArePrivileged, mayRedactOthers, redactionTarget } from './messageRelations';

interface CreateFacts {
  roomVersion: string;
  creators: string[];
}

/** A room's create event never changes: its version and creators, remembered. */
const createFactsOfRoom = new LRUCache<string, CreateFacts>({ max: 50_000 });

/**
 * Redactions as Synapse applies them, so the index never drops what Matrix clients still show:
 * the target is read the way the room's version defines it, it must be in the redaction's own
 * room, and the redaction's sender must be the target's sender or someone the room lets redact
 * others (its power levels; in version 12 the creator, the service bot). The room's facts come
 * from Synapse, read as the bot: the create event once per room, the power levels only when
 * someone redacts another person's event.
 */
export class RedactionRules {
  constructor(private readonly api: MatrixApi) {}

  /** The event this redaction targets in its room's version; null when it names none. */
  async targetOf(event: MatrixEvent): Promise<string | null> {
    const facts = await this.createFacts(event.room_id).catch((err: unknown) => {
      // A room the bot cannot read is no room of the index; Synapse being away is retried.
      if (err instanceof MatrixError && err.status < 500) return null;
      throw err;
    });
    return facts ? redactionTarget(event, facts.roomVersion) : null;
  }

  /** Whether Synapse applies `redaction` to an event of `target` (its room and sender). */
  async applies(redaction: MatrixEvent, target: { roomId: string; senderMatrixId: string }): Promise<boolean> {
    if (target.roomId !== redaction.room_id) return false;
    if (target.senderMatrixId === redaction.sender) return true;
    const facts = await this.createFacts(redaction.room_id);
    // The service bot, creator of every conversation room: no need to read the power levels.
    if (creatorsArePrivileged(facts.roomVersion) && facts.creators.includes(redaction.sender)) return true;
    const powerLevels = await this.api.getState(redaction.room_id, 'm.room.power_levels');
    return mayRedactOthers(redaction.sender, { ...facts, powerLevels });
  }

  private async createFacts(roomId: string): Promise<CreateFacts> {
    const known = createFactsOfRoom.get(roomId);
    if (known) return known;
    const create = await this.api.request<{ sender: string; content: Record<string, unknown> }>(
      'GET',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.create/`,
      { query: { format: 'event' } },
    );
    const roomVersion = typeof create.content.room_version === 'string' ? create.content.room_version : '1';
    const extra = Array.isArray(create.content.additional_creators) ? create.content.additional_creators.filter((c): c is string => typeof c === 'string') : [];
    const creators = [typeof create.content.creator === 'string' ? create.content.creator : create.sender, ...extra];
    const facts = { roomVersion, creators };
    createFactsOfRoom.set(roomId, facts);
    return facts;
  }
}
