import { testConfig, uniqueId } from '../support/harness';
import { connectDatabase, disconnectDatabase, rawDatabase } from '../../store';

/**
 * A document's update must not undo another write to it. FerretDB updates by reading the document
 * and writing it back whole; upstream reads a filter of `_id` plus a condition
 * (`{_id, registeredOnMatrix: {$ne: true}}`) by decoding the whole table, so the write lands long
 * after the read and overwrites what happened meanwhile. CI lost a customer's deactivation and
 * erasure that way. scripts/install-ferretdb.sh patches the read to go by `_id`; on the unpatched
 * build this test loses every one of its writes (the scan takes over 100 ms; the writes come 20 ms
 * after it started).
 */
describe('updates of one document among ten thousand', () => {
  const DOCS = 10000;
  /** Far longer than an update by `_id` takes, even on a loaded machine; far shorter than a scan of DOCS. */
  const GAP_MS = 20;
  let collection: ReturnType<typeof collectionOf>;
  const collectionOf = (name: string) => rawDatabase().collection<{ _id: string; registered?: boolean; status?: string; padding?: string }>(name);

  beforeAll(async () => {
    await connectDatabase(testConfig().mongodbUri);
    collection = collectionOf(uniqueId('update_atomicity'));
    for (let i = 0; i < DOCS; i += 1000) {
      await collection.insertMany(Array.from({ length: 1000 }, (_, j) => ({ _id: `doc-${i + j}`, status: 'active', padding: 'x'.repeat(200) })));
    }
  });
  afterAll(async () => {
    await collection?.drop().catch(() => undefined);
    await disconnectDatabase();
  });

  test('a conditional update and a plain update of the same document both take effect', async () => {
    const outcomes: Array<{ id: string; status?: string; registered?: boolean }> = [];
    for (let k = 0; k < 5; k++) {
      const id = `doc-${DOCS - 1 - k * 7}`;
      const conditional = collection.updateOne({ _id: id, registered: { $ne: true } }, { $set: { registered: true } });
      await new Promise((resolve) => setTimeout(resolve, GAP_MS));
      await collection.updateOne({ _id: id }, { $set: { status: 'deactivated' } });
      await conditional;
      const doc = await collection.findOne({ _id: id });
      outcomes.push({ id, status: doc?.status, registered: doc?.registered });
    }
    expect(outcomes.filter((o) => o.status !== 'deactivated' || o.registered !== true)).toEqual([]);
  });

  test('a conditional update by `_id` still applies its condition', async () => {
    const id = 'doc-3';
    expect((await collection.updateOne({ _id: id, status: 'gone' }, { $set: { registered: true } })).matchedCount).toBe(0);
    expect((await collection.updateOne({ _id: id, status: 'active' }, { $set: { registered: true } })).matchedCount).toBe(1);
    expect(await collection.countDocuments({ _id: id, registered: true })).toBe(1);
  });
});
