import { roomPowerLevels } from '../../appservice';
import { readOnlyPowerLevels } from '../../provisioning/jobs/chatsToggleFanout';

const BOT = '@cw_bot:chat.example.org';

/** The power a participant needs to send `type` (a message event) under these power levels. */
function levelToSend(pl: Record<string, any>, type: string): number {
  return pl.events?.[type] ?? pl.events_default ?? 0;
}

describe('read-only power levels (chats toggle off)', () => {
  test('a participant (level 0) can send nothing: no message, reaction or unsend', () => {
    const pl = readOnlyPowerLevels(roomPowerLevels(), BOT);
    for (const type of ['m.room.message', 'm.reaction', 'm.room.redaction', 'm.sticker', 'org.example.custom']) {
      expect(levelToSend(pl, type)).toBeGreaterThan(0);
    }
  });

  test('levels above everyone but the service, and changing power levels stays possible for it', () => {
    const pl = readOnlyPowerLevels({ ...roomPowerLevels(), users: { '@alice:x': 50, [BOT]: 100 } }, BOT);
    expect(pl.events_default).toBe(100);
    const pl2 = readOnlyPowerLevels({ ...roomPowerLevels(), users: { '@alice:x': 100, [BOT]: 100 } }, BOT) as Record<string, any>;
    expect(pl2.events_default).toBe(101);
    expect(pl2.events['m.room.message']).toBe(101);
    // Kept as it was, so the service (level 100 here) can always restore the room.
    expect(pl2.events['m.room.power_levels']).toBe(100);
  });

  test('everything else in the content is kept, so turning chats on can restore it exactly', () => {
    const original = roomPowerLevels();
    const pl = readOnlyPowerLevels(original, BOT);
    expect(pl).toMatchObject({ users: original.users, invite: 100, kick: 100, ban: 100, redact: 100, notifications: { room: 100 } });
    expect(original).toEqual(roomPowerLevels());
  });
});
