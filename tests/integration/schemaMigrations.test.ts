import { connectDatabase, disconnectDatabase, migrationStatus, rawDatabase, runMigrations, type Migration } from '../../store';
import { MIGRATIONS } from '../../store/migrations';
import { uniqueId } from '../support/harness';

/**
 * The data migration mechanism (store/migrate.ts) on the real FerretDB/MongoDB: applied once in
 * order however many processes start together, recorded in schema_migrations, and a lease held by
 * a live process makes the others wait (and say so when it takes too long).
 */
describe('numbered data migrations', () => {
  const prefix = uniqueId('mig');
  const calls: string[] = [];
  const migrations: Migration[] = [1, 2].map((n) => ({
    id: `${prefix}-${n}`,
    name: `step-${n}`,
    async up(db) {
      calls.push(`${prefix}-${n}`);
      await db.collection(`${prefix}_data`).updateOne({ _id: 'x' as never }, { $set: { [`step${n}`]: true } }, { upsert: true });
      await new Promise((r) => setTimeout(r, 300));
    },
  }));

  beforeAll(async () => {
    await connectDatabase(process.env.MONGODB_URI!);
  });
  afterAll(async () => {
    const db = rawDatabase();
    await db.collection('schema_migrations').deleteMany({ _id: { $in: migrations.map((m) => m.id) } as never });
    await db.collection(`${prefix}_data`).drop().catch(() => undefined);
    await disconnectDatabase();
  });

  test('two processes starting together: each migration runs once, in order, and is recorded', async () => {
    expect((await migrationStatus(migrations)).map((m) => m.appliedAt)).toEqual([undefined, undefined]);
    const [a, b] = await Promise.all([runMigrations({ migrations }), runMigrations({ migrations })]);
    expect([a, b].sort((x, y) => y.length - x.length)).toEqual([migrations.map((m) => m.id), []]);
    expect(calls).toEqual(migrations.map((m) => m.id));
    const status = await migrationStatus(migrations);
    expect(status.map((m) => ({ id: m.id, applied: m.appliedAt instanceof Date }))).toEqual(migrations.map((m) => ({ id: m.id, applied: true })));
    expect(await rawDatabase().collection(`${prefix}_data`).findOne({ _id: 'x' as never })).toEqual({ _id: 'x', step1: true, step2: true });
    // Nothing pending: a later start does nothing.
    expect(await runMigrations({ migrations })).toEqual([]);
    expect(calls).toHaveLength(2);
  });

  test('a lease held by a live process: the next one waits, then fails naming the lease', async () => {
    const pending: Migration[] = [{ id: `${prefix}-3`, name: 'step-3', up: async () => void calls.push(`${prefix}-3`) }];
    migrations.push(pending[0]!);
    const locks = rawDatabase().collection('schema_migrations');
    await locks.insertOne({ _id: '~lock' as never, holder: 'another-process', lockedUntil: new Date(Date.now() + 60000) });
    try {
      await expect(runMigrations({ migrations: pending, waitMs: 600 })).rejects.toThrow('another process holds the migration lease (schema_migrations "~lock")');
      expect(calls).not.toContain(`${prefix}-3`);
    } finally {
      await locks.deleteOne({ _id: '~lock' as never, holder: 'another-process' });
    }
    // Once released (or expired) the migration goes through.
    expect(await runMigrations({ migrations: pending })).toEqual([`${prefix}-3`]);
  });

  test('0002 records people provisioned before registeredOnMatrix existed as registered, and nobody else', async () => {
    const db = rawDatabase();
    const net = uniqueId('mig0002');
    const customers = db.collection('customers');
    await customers.insertMany([
      { _id: `${net}-done` as never, networkId: net, customerId: 'done', provisionedVersion: 2 },
      { _id: `${net}-new` as never, networkId: net, customerId: 'new', provisionedVersion: 0 },
    ]);
    await db.collection('administrators').insertOne({ _id: `${net}-erin` as never, networkId: net, adminId: 'erin', provisionedVersion: 1 });
    const m0002 = MIGRATIONS.find((m) => m.id === '0002')!;
    await m0002.up(db);
    await m0002.up(db); // idempotent: a second run changes nothing
    const seen = await customers.find({ networkId: net }).sort({ customerId: 1 }).project({ _id: 0, customerId: 1, registeredOnMatrix: 1 }).toArray();
    expect(seen).toEqual([{ customerId: 'done', registeredOnMatrix: true }, { customerId: 'new' }]);
    expect((await db.collection('administrators').findOne({ networkId: net }))?.registeredOnMatrix).toBe(true);
    await customers.deleteMany({ networkId: net });
    await db.collection('administrators').deleteMany({ networkId: net });
  });

  test('0004 lists every administrator of a network in its roster, once', async () => {
    const db = rawDatabase();
    const net = uniqueId('mig0004');
    const admins = db.collection('administrators');
    await admins.insertMany([
      { _id: `${net}-ada` as never, networkId: net, adminId: 'ada', status: 'active' },
      { _id: `${net}-bo` as never, networkId: net, adminId: 'bo', status: 'removed' },
    ]);
    const m0004 = MIGRATIONS.find((m) => m.id === '0004')!;
    await m0004.up(db);
    await m0004.up(db); // idempotent
    expect(await db.collection('administrator_rosters').findOne({ _id: net as never })).toEqual({ _id: net, adminIds: ['ada', 'bo'] });
    await admins.deleteMany({ networkId: net });
    await db.collection('administrator_rosters').deleteOne({ _id: net as never });
  });

  test('0003 gathers each message\'s reactions into its set once, in the order they were made', async () => {
    const db = rawDatabase();
    const id = uniqueId('mig0003');
    const sets = db.collection('message_reaction_sets');
    const reactions = db.collection('message_reactions');
    const reaction = (n: number, messageId: string, key: string, at: number) => ({ _id: `$${id}-r${n}` as never, messageId, chatId: id, roomId: '!r:localhost', senderMatrixId: `@u${n}:localhost`, key, at: new Date(at) });
    await reactions.insertMany([reaction(2, `$${id}-m1`, '🎉', 2000), reaction(1, `$${id}-m1`, '👍', 1000), reaction(3, `$${id}-m2`, '👍', 3000)]);
    const m0003 = MIGRATIONS.find((m) => m.id === '0003')!;
    await m0003.up(db);
    await m0003.up(db); // idempotent: a second run adds nothing
    const seen = await sets.find({ chatId: id }).sort({ _id: 1 }).toArray();
    expect(seen).toEqual([
      { _id: `$${id}-m1`, chatId: id, reactions: [{ eventId: `$${id}-r1`, key: '👍', senderMatrixId: '@u1:localhost' }, { eventId: `$${id}-r2`, key: '🎉', senderMatrixId: '@u2:localhost' }] },
      { _id: `$${id}-m2`, chatId: id, reactions: [{ eventId: `$${id}-r3`, key: '👍', senderMatrixId: '@u3:localhost' }] },
    ]);
    await sets.deleteMany({ chatId: id });
    await reactions.deleteMany({ chatId: id });
  });

  test('0005 lists each conversation\'s reacted messages from the sets, the same list on a second run', async () => {
    const db = rawDatabase();
    const id = uniqueId('mig0005');
    const sets = db.collection('message_reaction_sets');
    const set = (m: string) => ({ _id: `$${id}-${m}` as never, chatId: id, reactions: [{ eventId: `$${id}-r-${m}`, key: '👍', senderMatrixId: '@u:localhost' }] });
    await sets.insertMany([set('m2'), set('m1')]);
    const m0005 = MIGRATIONS.find((m) => m.id === '0005')!;
    await m0005.up(db);
    await m0005.up(db);
    expect(await db.collection('conversation_reaction_marks').findOne({ _id: id as never })).toEqual({ _id: id, messageIds: [`$${id}-m1`, `$${id}-m2`], overflow: false });
    await sets.deleteMany({ chatId: id });
    await db.collection('conversation_reaction_marks').deleteOne({ _id: id as never });
  });
});
