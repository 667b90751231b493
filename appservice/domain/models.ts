import mongoose, { Schema, type InferSchemaType } from 'mongoose';
import { COMMUNITY_VISIBILITIES } from './chatRules';
import { parseDocId } from './entityIds';

/**
 * MongoDB collections. Only features that real MongoDB and FerretDB 1.x share are used: unique and
 * compound indexes, no transactions, no TTL/partial/text indexes, no $lookup/$facet.
 * Everything is keyed by (networkId, host id): no query ever crosses networks.
 */

const networkSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    chatsEnabled: { type: Boolean, default: true },
    communityVisibility: { type: String, enum: COMMUNITY_VISIBILITIES, default: 'network_members' },
    attachments: {
      allowedTypes: {
        type: [String],
        default: ['application/pdf', 'image/png', 'image/jpeg', 'image/gif', 'image/webp'],
      },
      maxBytes: { type: Number, default: 10 * 1024 * 1024 },
    },
    notifications: {
      webhookUrl: { type: String },
      /** HMAC-SHA256 key of the webhook channel; never shown back over the API. */
      webhookSecret: { type: String },
      inApp: { type: Boolean, default: true },
    },
    spaceRoomId: { type: String },
    /** The chats toggle state last queued for the rooms, and its version (the fan-out job id carries it). */
    chatsToggleTarget: { type: Boolean },
    chatsToggleVersion: { type: Number, default: 0 },
    /**
     * Bumped after every change to a customer's directory fields (communityDirectory.ts keeps the
     * network's name index in memory and brings it up to date when this moves).
     */
    directoryRevision: { type: Number, default: 0 },
  },
  { timestamps: true, versionKey: false },
);

const locationSchema = new Schema(
  {
    networkId: { type: String, required: true },
    locationId: { type: String, required: true },
    name: { type: String, required: true },
    spaceRoomId: { type: String },
  },
  { timestamps: true, versionKey: false },
);
locationSchema.index({ networkId: 1, locationId: 1 }, { unique: true });

const customerSchema = new Schema(
  {
    /** customerDocId(networkId, customerId) (entityIds.ts): FerretDB serves only `_id` lookups from an index. */
    _id: { type: String, required: true },
    networkId: { type: String, required: true },
    customerId: { type: String, required: true },
    kind: { type: String, enum: ['member', 'nonmember'], required: true },
    displayName: { type: String, required: true },
    /** Lowercased display name for prefix search. */
    searchName: { type: String, required: true },
    avatarUrl: { type: String },
    locationIds: { type: [String], default: [] },
    hideNameOnBookings: { type: Boolean, default: false },
    status: { type: String, enum: ['active', 'deactivated'], default: 'active' },
    matrixUserId: { type: String, required: true },
    /** Bumped on every change; provisioning job ids carry it so a repeated sync runs once. */
    version: { type: Number, default: 1 },
    provisionedVersion: { type: Number, default: 0 },
    /** Set when deprovisioned with erase: the profile here and on Synapse is gone. */
    erasedAt: { type: Date },
  },
  { timestamps: true, versionKey: false },
);
customerSchema.index({ networkId: 1, customerId: 1 }, { unique: true });
customerSchema.index({ networkId: 1, searchName: 1 });
/** Cursor pages of the Community page and the admins' customer search: (searchName, customerId). */
customerSchema.index({ networkId: 1, searchName: 1, customerId: 1 });

/** The fields the Community page and the customer search show or filter on. */
const DIRECTORY_FIELDS = new Set(['displayName', 'searchName', 'avatarUrl', 'locationIds', 'hideNameOnBookings', 'status', 'kind', 'customerId', 'networkId']);

/**
 * Every write that can change what the directory shows moves the network's directoryRevision, after
 * the write, and records which customers it touched under the new revision (`directory_changes`,
 * null = any of them): whichever code path writes customers, no cached name index outlives the
 * change, and directoryCache.ts can catch up by reading just those customers.
 */
type CustomerTouch = { networkId: string; customerIds: string[] | null };

async function recordDirectoryChange(touches: readonly CustomerTouch[]): Promise<void> {
  const byNetwork = new Map<string, Set<string> | null>();
  for (const t of touches) {
    const known = byNetwork.get(t.networkId);
    if (known === null) continue;
    if (t.customerIds === null) byNetwork.set(t.networkId, null);
    else byNetwork.set(t.networkId, new Set([...(known ?? []), ...t.customerIds]));
  }
  await Promise.all(
    [...byNetwork].map(async ([networkId, customerIds]) => {
      const network = await NetworkModel.findOneAndUpdate({ _id: networkId }, { $inc: { directoryRevision: 1 } }, { returnDocument: 'after' }).lean();
      if (!network) return;
      const revision = network.directoryRevision ?? 0;
      await Promise.all([
        DirectoryChangeModel.create({ _id: directoryChangeId(networkId, revision), customerIds: customerIds ? [...customerIds] : null }),
        // Only the recent past is kept: a cache further behind reloads everything anyway.
        DirectoryChangeModel.deleteOne({ _id: directoryChangeId(networkId, revision - DIRECTORY_CHANGES_KEPT) }),
      ]);
    }),
  );
}

/** Changes kept per network; directoryCache.ts reloads a network further behind than this. */
export const DIRECTORY_CHANGES_KEPT = 1000;

export function directoryChangeId(networkId: string, revision: number): string {
  return JSON.stringify(['directory', networkId, revision]);
}

function touchesDirectory(update: unknown): boolean {
  if (!update || typeof update !== 'object' || Array.isArray(update)) return true;
  const paths = Object.entries(update).flatMap(([key, value]) =>
    key.startsWith('$') && value && typeof value === 'object' ? Object.keys(value) : key.startsWith('$') ? [] : [key],
  );
  return paths.some((path) => DIRECTORY_FIELDS.has(path.split('.')[0]!));
}

/** The customers a write's filter names: by `_id` (one or `$in`), or by networkId (+ customerId). */
function touchesOfFilter(filter: Record<string, unknown>): CustomerTouch[] {
  const id = filter._id as unknown;
  const ids = typeof id === 'string' ? [id] : id && typeof id === 'object' && Array.isArray((id as { $in?: unknown }).$in) ? (id as { $in: unknown[] }).$in : null;
  if (ids) {
    return ids.flatMap((one): CustomerTouch[] => {
      const ref = parseDocId(one);
      return ref?.kind === 'customer' ? [{ networkId: ref.networkId, customerIds: [ref.id] }] : [];
    });
  }
  if (typeof filter.networkId === 'string') {
    return [{ networkId: filter.networkId, customerIds: typeof filter.customerId === 'string' ? [filter.customerId] : null }];
  }
  return [];
}

customerSchema.post(['updateOne', 'updateMany', 'findOneAndUpdate', 'replaceOne', 'deleteOne', 'deleteMany', 'findOneAndDelete'], async function () {
  const op = (this as unknown as { op?: string }).op ?? '';
  if (!op.startsWith('delete') && !op.endsWith('Delete') && !touchesDirectory(this.getUpdate())) return;
  await recordDirectoryChange(touchesOfFilter(this.getFilter()));
});
customerSchema.post('insertMany', async function (docs: unknown) {
  const list = (Array.isArray(docs) ? docs : [docs]) as Array<{ networkId?: string; customerId?: string } | null>;
  await recordDirectoryChange(
    list.flatMap((d) => (typeof d?.networkId === 'string' ? [{ networkId: d.networkId, customerIds: typeof d.customerId === 'string' ? [d.customerId] : null }] : [])),
  );
});
customerSchema.post('save', async function (doc: { networkId?: string; customerId?: string }) {
  if (typeof doc.networkId === 'string') await recordDirectoryChange([{ networkId: doc.networkId, customerIds: doc.customerId ? [doc.customerId] : null }]);
});
/** bulkWrite does not tell its post hook what it wrote: callers of CustomerModel.bulkWrite call this. */
export const customerDirectoryChanged = (networkId: string, customerIds?: readonly string[]) =>
  recordDirectoryChange([{ networkId, customerIds: customerIds ? [...customerIds] : null }]);

const administratorSchema = new Schema(
  {
    /** adminDocId(networkId, adminId) (entityIds.ts). */
    _id: { type: String, required: true },
    networkId: { type: String, required: true },
    adminId: { type: String, required: true },
    displayName: { type: String, required: true },
    notifications: {
      inApp: { type: Boolean, default: true },
      webhook: { type: Boolean, default: true },
    },
    status: { type: String, enum: ['active', 'removed'], default: 'active' },
    matrixUserId: { type: String, required: true },
    version: { type: Number, default: 1 },
    provisionedVersion: { type: Number, default: 0 },
  },
  { timestamps: true, versionKey: false },
);
administratorSchema.index({ networkId: 1, adminId: 1 }, { unique: true });

const feedPostSchema = new Schema(
  {
    networkId: { type: String, required: true },
    postId: { type: String, required: true },
    authorId: { type: String, required: true },
    locationId: { type: String },
    postedAt: { type: Date, required: true },
  },
  { timestamps: true, versionKey: false },
);
feedPostSchema.index({ networkId: 1, postId: 1 }, { unique: true });
feedPostSchema.index({ networkId: 1, authorId: 1 });

const bookingSchema = new Schema(
  {
    networkId: { type: String, required: true },
    bookingId: { type: String, required: true },
    locationId: { type: String },
    participantIds: { type: [String], default: [] },
    shared: { type: Boolean, default: false },
  },
  { timestamps: true, versionKey: false },
);
bookingSchema.index({ networkId: 1, bookingId: 1 }, { unique: true });

const conversationSchema = new Schema(
  {
    /** conversationIdForKey(key) (entityIds.ts): a conversation is found by `_id`, never by key. */
    _id: { type: String, required: true },
    networkId: { type: String, required: true },
    kind: { type: String, enum: ['direct', 'support'], required: true },
    /**
     * direct: "direct/<network>/<a>/<b>" with a < b; support: "support/<network>/<customer>".
     * The unique index makes a second conversation for the same pair impossible, even under races.
     */
    key: { type: String, required: true, unique: true },
    customerIds: { type: [String], required: true },
    /** Who started it: a customer id, or "admin:<id>". Rule 5's exception reads it. */
    startedBy: { type: String, required: true },
    roomId: { type: String },
    lastActivityAt: { type: Date, required: true },
    /** Bumped by every message and redaction the index applies: cached unread counts key on it. */
    revision: { type: Number, default: 0 },
    lastMessage: {
      eventId: String,
      senderId: String,
      body: String,
      at: Date,
    },
  },
  { timestamps: true, versionKey: false },
);
conversationSchema.index({ networkId: 1, customerIds: 1, lastActivityAt: -1 });
conversationSchema.index({ networkId: 1, kind: 1, lastActivityAt: -1 });
conversationSchema.index({ roomId: 1 });

/** A send made on someone's behalf: the client's txnId maps to exactly one Matrix event. */
const sentMessageSchema = new Schema(
  {
    _id: { type: String, required: true },
    chatId: { type: String, required: true },
    /** Missing while the send is in flight (or its answer was lost): a retry looks in the room first. */
    eventId: { type: String },
  },
  { timestamps: true, versionKey: false },
);

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

export const NetworkModel = mongoose.model('Network', networkSchema, 'networks');
/** Which customers each directoryRevision of a network touched (null: possibly any). */
export const DirectoryChangeModel = mongoose.model(
  'DirectoryChange',
  new Schema({ _id: { type: String, required: true }, customerIds: { type: [String], default: null } }, { versionKey: false }),
  'directory_changes',
);
export const LocationModel = mongoose.model('Location', locationSchema, 'locations');
export const CustomerModel = mongoose.model('Customer', customerSchema, 'customers');
export const AdministratorModel = mongoose.model('Administrator', administratorSchema, 'administrators');
export const FeedPostModel = mongoose.model('FeedPost', feedPostSchema, 'feed_posts');
export const BookingModel = mongoose.model('Booking', bookingSchema, 'bookings');
export const ConversationModel = mongoose.model('Conversation', conversationSchema, 'conversations');
export const SentMessageModel = mongoose.model('SentMessage', sentMessageSchema, 'sent_messages');
export const AppserviceTransactionModel = mongoose.model(
  'AppserviceTransaction',
  appserviceTransactionSchema,
  'appservice_transactions',
);
export const ProcessedEventModel = mongoose.model('ProcessedEvent', processedEventSchema, 'processed_events');

export type NetworkDoc = InferSchemaType<typeof networkSchema>;
export type CustomerDoc = InferSchemaType<typeof customerSchema>;
export type AdministratorDoc = InferSchemaType<typeof administratorSchema>;
export type ConversationDoc = InferSchemaType<typeof conversationSchema>;
