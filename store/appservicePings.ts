import mongoose, { Schema } from 'mongoose';

/**
 * The pings the appservice's listener answered, by the ping's transaction id, kept until the
 * health check that sent the ping reads it. Under load Synapse can answer a ping with 502 although
 * the appservice received it and answered 200 (seen on 1.163 while it pushes a backlog:
 * "AlreadyCancelled: Tried to cancel an already-cancelled event"); this record tells the two apart,
 * whichever process runs the listener and whichever runs the check.
 */
const appservicePingSchema = new Schema({ _id: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });

export const AppservicePingModel = mongoose.model('AppservicePing', appservicePingSchema, 'appservice_pings');

export async function recordPingReceived(transactionId: string): Promise<void> {
  await AppservicePingModel.updateOne({ _id: transactionId }, { $set: { at: new Date() } }, { upsert: true });
}

/** Whether the listener answered this ping; the record is removed either way. */
export async function takePingReceipt(transactionId: string): Promise<boolean> {
  return (await AppservicePingModel.findOneAndDelete({ _id: transactionId }).lean()) !== null;
}
