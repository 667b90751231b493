import mongoose, { Schema } from 'mongoose';
import { findByIds } from './lookupsById';

/**
 * Appservice transactions, stored before Synapse gets its 200 (durability and de-duplication).
 * Events are kept as JSON text: Matrix content has keys with dots ("m.reaction" in power levels),
 * which FerretDB refuses as field names.
 */
const appserviceTransactionSchema = new Schema(
  {
    _id: { type: String, required: true },
    eventsJson: { type: String, default: '[]' },
    ephemeralJson: { type: String, default: '[]' },
    processedAt: { type: Date },
  },
  { timestamps: true, versionKey: false },
);
appserviceTransactionSchema.index({ processedAt: 1, createdAt: 1 });

/** Events already applied to the index: processing is idempotent on event_id. */
const processedEventSchema = new Schema(
  {
    _id: { type: String, required: true },
    roomId: { type: String, required: true },
  },
  { timestamps: true, versionKey: false },
);

export interface StoredTransaction {
  _id: string;
  eventsJson: string;
  ephemeralJson: string;
  processedAt?: Date;
  createdAt?: Date;
}

export const AppserviceTransactionModel = mongoose.model('AppserviceTransaction', appserviceTransactionSchema, 'appservice_transactions');
export const ProcessedEventModel = mongoose.model('ProcessedEvent', processedEventSchema, 'processed_events');

/** Which of these events were applied already: one lookup by `_id` each (FerretDB scans for `$in`). */
export async function processedEventIds(eventIds: readonly string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  return new Set((await findByIds<{ _id: string }>(ProcessedEventModel, eventIds, { _id: 1 })).keys());
}

/** Transactions stored and not applied yet: the appservice's backlog. */
export async function pendingTransactionCount(): Promise<number> {
  return AppserviceTransactionModel.countDocuments({ processedAt: { $exists: false } });
}
