/**
 * Runs the events of many rooms side by side: each room's events in order, one at a time; at most
 * `perLane` rooms of one lane (a network) and `total` rooms overall at once. A room that waits (a
 * media check that runs into its timeout, a slow Synapse call) holds up only the events behind it
 * in that room, and at most `perLane` of its network's rooms: other rooms and other networks go on.
 */
export class RoomLanes {
  private readonly rooms = new Map<string, { lane: string; queue: Array<() => Promise<void>>; running: boolean }>();
  private readonly activePerLane = new Map<string, number>();
  private active = 0;
  /** Rooms with queued work that wait for a free place, in the order they became ready. */
  private readonly ready: string[] = [];

  constructor(private readonly limits: { total: number; perLane: number }) {}

  /** Queues `task` behind the room's earlier tasks; resolves or rejects with the task. */
  run<T>(roomId: string, lane: string, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let room = this.rooms.get(roomId);
      if (!room) {
        room = { lane, queue: [], running: false };
        this.rooms.set(roomId, room);
      }
      room.queue.push(() => task().then(resolve, reject));
      if (!room.running && !this.ready.includes(roomId)) this.ready.push(roomId);
      this.pump();
    });
  }

  private pump(): void {
    for (let i = 0; i < this.ready.length && this.active < this.limits.total; ) {
      const roomId = this.ready[i]!;
      const room = this.rooms.get(roomId)!;
      if ((this.activePerLane.get(room.lane) ?? 0) >= this.limits.perLane) {
        i++;
        continue;
      }
      this.ready.splice(i, 1);
      void this.drainRoom(roomId, room);
    }
  }

  private async drainRoom(roomId: string, room: { lane: string; queue: Array<() => Promise<void>>; running: boolean }): Promise<void> {
    room.running = true;
    this.active++;
    this.activePerLane.set(room.lane, (this.activePerLane.get(room.lane) ?? 0) + 1);
    try {
      for (let next = room.queue.shift(); next; next = room.queue.shift()) await next();
    } finally {
      room.running = false;
      this.active--;
      const left = (this.activePerLane.get(room.lane) ?? 1) - 1;
      if (left > 0) this.activePerLane.set(room.lane, left);
      else this.activePerLane.delete(room.lane);
      if (room.queue.length === 0) this.rooms.delete(roomId);
      else this.ready.push(roomId);
      this.pump();
    }
  }
}
