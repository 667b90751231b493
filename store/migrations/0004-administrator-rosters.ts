import type { Migration } from './migration';

/**
 * administrator_rosters: every administrator of a network, by network, through which a network's
 * administrators are found by `_id`. Filled for administrators synced before this release; adding
 * an id already listed changes nothing.
 */
export const migration: Migration = {
  id: '0004',
  name: 'administrator-rosters',
  async up(db) {
    const rosters = db.collection<{ _id: string; adminIds: string[] }>('administrator_rosters');
    for await (const admin of db.collection<{ networkId: string; adminId: string }>('administrators').find({}, { projection: { networkId: 1, adminId: 1 } }).sort({ createdAt: 1, _id: 1 })) {
      await rosters.updateOne({ _id: admin.networkId }, { $addToSet: { adminIds: admin.adminId } }, { upsert: true });
    }
  },
};
