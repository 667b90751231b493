import mongoose, { Schema } from 'mongoose';

export const REPORT_REASONS = ['spam', 'harassment', 'inappropriate', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];
export type ReportStatus = 'open' | 'resolved' | 'dismissed';

/**
 * Reports of a person or a message, from the portal or a Matrix client (Synapse's event reports,
 * imported by their id). The reported message's text is copied when the report is made, so
 * unsending it does not destroy the evidence. Every moderation action is appended to `actions`.
 */
const reportSchema = new Schema(
  {
    _id: { type: String, required: true },
    networkId: { type: String, required: true },
    source: { type: String, enum: ['portal', 'matrix'], required: true },
    status: { type: String, enum: ['open', 'resolved', 'dismissed'], default: 'open' },
    reporterId: { type: String, required: true },
    customerId: { type: String, default: null },
    chatId: { type: String, default: null },
    messageId: { type: String, default: null },
    messageText: { type: String, default: null },
    reason: { type: String, enum: REPORT_REASONS, required: true },
    details: { type: String, default: null },
    createdAt: { type: Date, required: true },
    actions: { type: [{ _id: false, adminId: String, at: Date, status: String, action: String }], default: [] },
  },
  { versionKey: false },
);
reportSchema.index({ networkId: 1, status: 1, createdAt: -1, _id: -1 });

export const ReportModel = mongoose.model('Report', reportSchema, 'reports');

export interface ReportDoc {
  _id: string;
  networkId: string;
  source: 'portal' | 'matrix';
  status: ReportStatus;
  reporterId: string;
  customerId: string | null;
  chatId: string | null;
  messageId: string | null;
  messageText: string | null;
  reason: ReportReason;
  details: string | null;
  createdAt: Date;
  actions: Array<{ adminId: string; at: Date; status: string; action?: string }>;
}

/** Inserts the report once (a Matrix report imported twice is the same report). True when new. */
export async function recordReport(report: Omit<ReportDoc, 'status' | 'actions'>): Promise<boolean> {
  const res = await ReportModel.updateOne({ _id: report._id }, { $setOnInsert: { ...report, status: 'open', actions: [] } }, { upsert: true });
  return res.upsertedCount === 1;
}

export async function findReport(networkId: string, reportId: string): Promise<ReportDoc | null> {
  const report = await ReportModel.findById(reportId).lean<ReportDoc>();
  return report && report.networkId === networkId ? report : null;
}

export async function reportsPage(networkId: string, status: 'open' | 'resolved', opts: { before?: { at: Date; id: string }; limit: number }): Promise<ReportDoc[]> {
  const statuses: ReportStatus[] = status === 'open' ? ['open'] : ['resolved', 'dismissed'];
  const before = opts.before ? { $or: [{ createdAt: { $lt: opts.before.at } }, { createdAt: opts.before.at, _id: { $lt: opts.before.id } }] } : {};
  return ReportModel.find({ networkId, status: { $in: statuses }, ...before }).sort({ createdAt: -1, _id: -1 }).limit(opts.limit).lean<ReportDoc[]>();
}

export async function recordReportAction(reportId: string, action: { adminId: string; at: Date; status: ReportStatus; action?: string }): Promise<void> {
  await ReportModel.updateOne({ _id: reportId }, { $set: { status: action.status }, $push: { actions: action } });
}
