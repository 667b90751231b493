import mongoose, { Schema } from 'mongoose';

/**
 * Data exports of a customer (Safety: data access requests). The export job writes the JSON
 * document in parts of at most ~512 KiB (`customer_export_parts`, `_id` = `<exportId>:<n>`), so a
 * large history never sits in one document or in one process's memory, and the download reads the
 * parts back one lookup by `_id` at a time. An export is downloadable once, by whoever asked for
 * it, until it expires; the download removes its parts.
 */
const customerExportSchema = new Schema(
  {
    _id: { type: String, required: true },
    networkId: { type: String, required: true },
    customerId: { type: String, required: true },
    requestedBy: { type: String, required: true },
    status: { type: String, enum: ['running', 'ready', 'downloaded'], default: 'running' },
    parts: { type: Number, default: 0 },
    bytes: { type: Number, default: 0 },
    messages: { type: Number, default: 0 },
    expiresAt: { type: Date, required: true },
  },
  { timestamps: true, versionKey: false },
);
const customerExportPartSchema = new Schema({ _id: { type: String, required: true }, exportId: String, data: { type: String, required: true } }, { versionKey: false });
customerExportPartSchema.index({ exportId: 1 });

export const CustomerExportModel = mongoose.model('CustomerExport', customerExportSchema, 'customer_exports');
export const CustomerExportPartModel = mongoose.model('CustomerExportPart', customerExportPartSchema, 'customer_export_parts');

export interface CustomerExportDoc {
  _id: string;
  networkId: string;
  customerId: string;
  requestedBy: string;
  status: 'running' | 'ready' | 'downloaded';
  parts: number;
  bytes: number;
  messages: number;
  expiresAt: Date;
}

export async function startCustomerExport(doc: Pick<CustomerExportDoc, '_id' | 'networkId' | 'customerId' | 'requestedBy' | 'expiresAt'>): Promise<void> {
  await CustomerExportModel.updateOne({ _id: doc._id }, { $set: { ...doc, status: 'running', parts: 0, bytes: 0, messages: 0 } }, { upsert: true });
  // A retried job starts over: parts of an earlier attempt are dropped.
  await CustomerExportPartModel.deleteMany({ exportId: doc._id });
}

export async function writeExportPart(exportId: string, n: number, data: string): Promise<void> {
  await CustomerExportPartModel.updateOne({ _id: `${exportId}:${n}` }, { $set: { exportId, data } }, { upsert: true });
}

export async function finishCustomerExport(exportId: string, totals: { parts: number; bytes: number; messages: number }): Promise<void> {
  await CustomerExportModel.updateOne({ _id: exportId }, { $set: { ...totals, status: 'ready' } });
}

export async function findCustomerExport(exportId: string): Promise<CustomerExportDoc | null> {
  return CustomerExportModel.findById(exportId).lean<CustomerExportDoc>();
}

export async function readExportPart(exportId: string, n: number): Promise<string | null> {
  return (await CustomerExportPartModel.findById(`${exportId}:${n}`).lean<{ data: string }>())?.data ?? null;
}

/** Claims the one download: true for the caller that turned `ready` into `downloaded`. */
export async function claimExportDownload(exportId: string): Promise<boolean> {
  return (await CustomerExportModel.updateOne({ _id: exportId, status: 'ready' }, { $set: { status: 'downloaded' } })).modifiedCount === 1;
}

export async function dropExportParts(exportId: string): Promise<void> {
  await CustomerExportPartModel.deleteMany({ exportId });
}
