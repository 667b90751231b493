import mongoose, { Schema, type InferSchemaType } from 'mongoose';
// The rules' vocabulary (a pure module without imports): what a network may store is what the rules know.
import { COMMUNITY_VISIBILITIES } from '../appservice/domain/chatRules';

const networkSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    chatsEnabled: { type: Boolean, default: true },
    /** When chatsEnabled last changed: messages from Matrix clients after it follow the new state. */
    chatsToggledAt: { type: Date },
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

export const NetworkModel = mongoose.model('Network', networkSchema, 'networks');
export type NetworkDoc = InferSchemaType<typeof networkSchema>;

/**
 * Writes to one network's document take turns within the process. FerretDB 1.24 applies an update
 * as read, change, write back, so two concurrent updates of one document can lose one of them
 * (seen: an administrator's settings change lost to the space job's `spaceRoomId`). Networks are
 * written rarely, so one queue per network costs nothing; a real MongoDB does not need it.
 */
const networkWrites = new Map<string, Promise<unknown>>();
export function writeNetwork<T>(networkId: string, write: () => Promise<T>): Promise<T> {
  const previous = networkWrites.get(networkId) ?? Promise.resolve();
  const turn = previous.then(write, write);
  const settled = turn.catch(() => undefined);
  networkWrites.set(networkId, settled);
  void settled.then(() => {
    if (networkWrites.get(networkId) === settled) networkWrites.delete(networkId);
  });
  return turn;
}

/** Networks are few and looked up by `_id`, the one filter every supported database serves from an index. */
export async function findNetwork(networkId: string): Promise<NetworkDoc | null> {
  return NetworkModel.findById(networkId).lean<NetworkDoc>();
}

export async function networkExists(networkId: string): Promise<boolean> {
  return (await NetworkModel.exists({ _id: networkId })) !== null;
}

/** Creates or updates a network from the host platform's fields. */
export async function upsertNetwork(
  networkId: string,
  fields: { name: string; chatsEnabled?: boolean; communityVisibility?: NetworkDoc['communityVisibility'] },
): Promise<NetworkDoc> {
  const { chatsEnabled, ...rest } = fields;
  const network = await writeNetwork(networkId, () =>
    NetworkModel.findOneAndUpdate({ _id: networkId }, { $set: rest }, { upsert: true, returnDocument: 'after', setDefaultsOnInsert: true }).lean<NetworkDoc>(),
  );
  return chatsEnabled === undefined || chatsEnabled === network!.chatsEnabled ? network! : (await setChatsEnabled(networkId, chatsEnabled))!;
}

/** Sets and unsets settings fields (dotted paths) of an existing network; returns it after, or null. */
export async function updateNetworkSettings(networkId: string, set: Record<string, unknown>, unset: Record<string, 1> = {}): Promise<NetworkDoc | null> {
  if (Object.keys(set).length + Object.keys(unset).length > 0) {
    await writeNetwork(networkId, () =>
      NetworkModel.updateOne({ _id: networkId }, { ...(Object.keys(set).length ? { $set: set } : {}), ...(Object.keys(unset).length ? { $unset: unset } : {}) }),
    );
  }
  return findNetwork(networkId);
}

/** Sets the chats flag; the time moves only when the flag does. Null: no such network. */
export async function setChatsEnabled(networkId: string, enabled: boolean): Promise<NetworkDoc | null> {
  await writeNetwork(networkId, () => NetworkModel.updateOne({ _id: networkId, chatsEnabled: { $ne: enabled } }, { $set: { chatsEnabled: enabled, chatsToggledAt: new Date() } }));
  return findNetwork(networkId);
}

/**
 * Records the chats toggle state the rooms must follow. The version moves only when the target
 * changes, so asking again for the same state names the same fan-out job. Null: no such network.
 */
export async function targetChatsToggle(networkId: string, enabled: boolean): Promise<{ version: number } | null> {
  const bumped = await writeNetwork(networkId, () => NetworkModel.findOneAndUpdate(
    { _id: networkId, chatsToggleTarget: { $ne: enabled } },
    { $set: { chatsToggleTarget: enabled }, $inc: { chatsToggleVersion: 1 } },
    { returnDocument: 'after' },
  ).lean<NetworkDoc>());
  const network = bumped ?? (await findNetwork(networkId));
  return network ? { version: network.chatsToggleVersion } : null;
}
