import mongoose, { Schema } from 'mongoose';
import { customerBlockId } from './entityIds';

/**
 * Who blocks whom, one document per (network, blocker, blocked) with a deterministic `_id`:
 * blocking inserts it, unblocking deletes it (no read-change-write, so concurrent calls cannot
 * undo each other), and the send path's check is one lookup by `_id`.
 */
const customerBlockSchema = new Schema(
  {
    _id: { type: String, required: true },
    networkId: { type: String, required: true },
    blockerId: { type: String, required: true },
    blockedId: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);
customerBlockSchema.index({ networkId: 1, blockerId: 1, createdAt: -1 });
customerBlockSchema.index({ networkId: 1, blockedId: 1 });

export const CustomerBlockModel = mongoose.model('CustomerBlock', customerBlockSchema, 'customer_blocks');

export interface CustomerBlock {
  blockedId: string;
  createdAt: Date;
}

export async function blockCustomer(networkId: string, blockerId: string, blockedId: string): Promise<void> {
  await CustomerBlockModel.updateOne(
    { _id: customerBlockId(networkId, blockerId, blockedId) },
    { $setOnInsert: { networkId, blockerId, blockedId, createdAt: new Date() } },
    { upsert: true },
  );
}

export async function unblockCustomer(networkId: string, blockerId: string, blockedId: string): Promise<void> {
  await CustomerBlockModel.deleteOne({ _id: customerBlockId(networkId, blockerId, blockedId) });
}

export async function isBlockedBy(networkId: string, blockerId: string, blockedId: string): Promise<boolean> {
  return (await CustomerBlockModel.exists({ _id: customerBlockId(networkId, blockerId, blockedId) })) !== null;
}

/** The customers `blockerId` blocks, newest first. */
export async function blocksOf(networkId: string, blockerId: string): Promise<CustomerBlock[]> {
  return CustomerBlockModel.find({ networkId, blockerId }).sort({ createdAt: -1 }).select({ _id: 0, blockedId: 1, createdAt: 1 }).lean<CustomerBlock[]>();
}

/** Who blocks `blockedId` (the Community page does not show them to the person they block). */
export async function blockersOf(networkId: string, blockedId: string): Promise<Set<string>> {
  const docs = await CustomerBlockModel.find({ networkId, blockedId }).select({ _id: 0, blockerId: 1 }).lean<Array<{ blockerId: string }>>();
  return new Set(docs.map((d) => d.blockerId));
}
