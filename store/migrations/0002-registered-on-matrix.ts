import type { Migration } from './migration';

/**
 * `registeredOnMatrix` (customers, administrators): whether their Synapse account exists. Recorded
 * by provisioning since this release, right after registering and before placing them in spaces;
 * people provisioned earlier have an account exactly when a provisioning job finished for them.
 */
export const migration: Migration = {
  id: '0002',
  name: 'registered-on-matrix',
  async up(db) {
    for (const collection of ['customers', 'administrators']) {
      await db.collection(collection).updateMany({ provisionedVersion: { $gte: 1 }, registeredOnMatrix: { $ne: true } }, { $set: { registeredOnMatrix: true } });
    }
  },
};
