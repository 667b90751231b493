import { RoomLanes } from '../../appservice/roomLanes';

/** One slow room holds up only itself (and its network's share), never other rooms or networks. */
describe('room lanes', () => {
  const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test("each room's tasks run in order, one at a time", async () => {
    const lanes = new RoomLanes({ total: 4, perLane: 4 });
    const seen: string[] = [];
    await Promise.all(
      [30, 1, 10].map((ms, i) =>
        lanes.run('!room', 'net', async () => {
          seen.push(`start ${i}`);
          await later(ms);
          seen.push(`end ${i}`);
        }),
      ),
    );
    expect(seen).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  test("a network's slow rooms use at most its share; another network's room runs at once", async () => {
    const lanes = new RoomLanes({ total: 8, perLane: 2 });
    let releaseSlow!: () => void;
    const slow = new Promise<void>((r) => (releaseSlow = r));
    const started: string[] = [];
    const slowRooms = [1, 2, 3, 4].map((i) =>
      lanes.run(`!slow-${i}`, 'attacker-net', async () => {
        started.push(`slow-${i}`);
        await slow;
      }),
    );
    const t0 = Date.now();
    await lanes.run('!other', 'other-net', async () => {
      started.push('other');
    });
    expect(Date.now() - t0).toBeLessThan(50);
    // Only two of the attacker's rooms were let in; the others wait for their network's share.
    expect(started.sort()).toEqual(['other', 'slow-1', 'slow-2']);
    releaseSlow();
    await Promise.all(slowRooms);
    expect(started.sort()).toEqual(['other', 'slow-1', 'slow-2', 'slow-3', 'slow-4']);
  });

  test('a failing task rejects its own promise and the room goes on', async () => {
    const lanes = new RoomLanes({ total: 1, perLane: 1 });
    const failed = lanes.run('!r', 'n', async () => {
      throw new Error('boom');
    });
    const next = lanes.run('!r', 'n', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });
});
