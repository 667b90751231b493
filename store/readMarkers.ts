import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const readMarkerSchema = new Schema(
  {
    /** `<chatId>|<customer|admin>:<id>` */
    _id: { type: String, required: true },
    chatId: { type: String, required: true },
    eventId: { type: String, required: true },
    /** origin_server_ts of the marked message: markers only move forward. */
    readAt: { type: Date },
    /**
     * The unread count last computed, with what it was computed from: the conversation's revision
     * and this marker's readAt. Reused while both are unchanged, so an inbox page counts again only
     * the conversations that changed since.
     */
    unreadCache: {
      revision: Number,
      readAtMs: Number,
      count: Number,
    },
  },
  { timestamps: true, versionKey: false },
);

export const ReadMarkerModel = mongoose.model('ReadMarker', readMarkerSchema, 'read_markers');
export type ReadMarkerDoc = InferSchemaType<typeof readMarkerSchema> & { _id: string };
