import mongoose, { Schema } from 'mongoose';
import { customerDocId } from './entityIds';

/**
 * Customers whose chats an administrator suspended (moderation): insert to suspend, delete to lift;
 * the send path looks one up by `_id` (the customer's document id).
 */
const chatSuspensionSchema = new Schema(
  { _id: { type: String, required: true }, networkId: { type: String, required: true }, customerId: { type: String, required: true }, by: String, reportId: String, at: Date },
  { versionKey: false },
);

export const ChatSuspensionModel = mongoose.model('ChatSuspension', chatSuspensionSchema, 'chat_suspensions');

export async function suspendChats(networkId: string, customerId: string, by: { adminId: string; reportId?: string }): Promise<void> {
  await ChatSuspensionModel.updateOne(
    { _id: customerDocId(networkId, customerId) },
    { $setOnInsert: { networkId, customerId, by: by.adminId, reportId: by.reportId, at: new Date() } },
    { upsert: true },
  );
}

export async function liftChatSuspension(networkId: string, customerId: string): Promise<void> {
  await ChatSuspensionModel.deleteOne({ _id: customerDocId(networkId, customerId) });
}

export async function isChatSuspended(networkId: string, customerId: string): Promise<boolean> {
  return (await ChatSuspensionModel.exists({ _id: customerDocId(networkId, customerId) })) !== null;
}
