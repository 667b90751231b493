import { NotFoundError } from '../../runtime';
import { virtualUserId } from '../../appservice';
import {
  deleteFeedPost,
  networkExists,
  removeAdministrator,
  upsertAdministrator,
  upsertBooking,
  upsertCustomer,
  upsertFeedPost,
  upsertLocation,
  upsertNetwork,
  type AdministratorDoc,
  type CustomerDoc,
  type CustomerFields,
  type NetworkDoc,
} from '../../store';
import type { ProvisioningQueue } from '../provisioningQueue';
import { queueChatsFanout } from './toggleChats';
import { announceFeatures } from './networkFeatures';
import type { LiveEventPublisher } from '../../live';

/**
 * Host sync: the host platform (or an operator) tells us about its networks, locations, customers,
 * administrators, Feed posts and bookings. One command per entity, called by the host-sync routes
 * and the CLI alike; each writes the store and queues what must follow on the Matrix side.
 */
export interface HostSyncContext {
  queue: ProvisioningQueue;
  matrixDomain: string;
  live: LiveEventPublisher;
}

async function requireNetwork(networkId: string): Promise<void> {
  if (!(await networkExists(networkId))) throw new NotFoundError('network');
}

export async function syncNetwork(
  ctx: HostSyncContext,
  networkId: string,
  fields: { name: string; chatsEnabled?: boolean; communityVisibility?: NetworkDoc['communityVisibility'] },
): Promise<NetworkDoc> {
  const network = await upsertNetwork(networkId, fields);
  // The host platform may toggle chats too: the rooms follow through the same fan-out job.
  if (fields.chatsEnabled !== undefined) await queueChatsFanout(ctx.queue, networkId, network.chatsEnabled);
  if (fields.chatsEnabled !== undefined || fields.communityVisibility !== undefined) await announceFeatures(ctx.live, network);
  return network;
}

export async function syncLocation(ctx: HostSyncContext, networkId: string, locationId: string, name: string): Promise<void> {
  await requireNetwork(networkId);
  const { created } = await upsertLocation(networkId, locationId, name);
  // A new location gets its space, and its customers their places in it.
  if (created) await ctx.queue.placeInSpaces(networkId);
}

/** Writes the customer (unchanged fields write nothing) and queues provisioning of their virtual user. */
export async function syncCustomer(
  ctx: HostSyncContext,
  networkId: string,
  customerId: string,
  fields: CustomerFields,
): Promise<{ customer: CustomerDoc; created: boolean; jobId: string }> {
  await requireNetwork(networkId);
  const matrixUserId = virtualUserId({ kind: 'customer', networkId, id: customerId }, ctx.matrixDomain);
  const { customer, created } = await upsertCustomer(networkId, customerId, fields, matrixUserId);
  // A deactivated customer's open streams end at once, in every API process.
  if (customer.status !== 'active') await ctx.live.endStreams({ kind: 'customer', networkId, id: customerId });
  const jobId = await ctx.queue.provisionCustomer(networkId, customerId, customer.version);
  return { customer, created, jobId };
}

export async function syncAdministrator(
  ctx: HostSyncContext,
  networkId: string,
  adminId: string,
  fields: { displayName: string; notifications?: { inApp?: boolean; webhook?: boolean } },
): Promise<{ admin: AdministratorDoc; jobId: string }> {
  await requireNetwork(networkId);
  const matrixUserId = virtualUserId({ kind: 'admin', networkId, id: adminId }, ctx.matrixDomain);
  const admin = await upsertAdministrator(networkId, adminId, fields, matrixUserId);
  return { admin, jobId: await ctx.queue.provisionAdmin(networkId, adminId, admin.version) };
}

/** They lose access at once; a job removes them from the network's support rooms. */
export async function removeNetworkAdministrator(ctx: HostSyncContext, networkId: string, adminId: string): Promise<{ jobId: string }> {
  const admin = await removeAdministrator(networkId, adminId);
  if (!admin) throw new NotFoundError('administrator');
  await ctx.live.endStreams({ kind: 'admin', networkId, id: adminId });
  return { jobId: await ctx.queue.provisionAdmin(networkId, adminId, admin.version) };
}

export async function recordFeedPost(
  ctx: HostSyncContext,
  networkId: string,
  postId: string,
  post: { authorId: string; locationId?: string; postedAt: Date },
): Promise<void> {
  await requireNetwork(networkId);
  await upsertFeedPost(networkId, postId, post);
  // Posting makes a customer who hides their name visible (rule 5): place them in the spaces.
  await ctx.queue.placeInSpaces(networkId, post.authorId);
}

export async function removeFeedPost(ctx: HostSyncContext, networkId: string, postId: string): Promise<void> {
  const removed = await deleteFeedPost(networkId, postId);
  if (!removed) throw new NotFoundError('feed post');
  // Their last post gone, a customer who hides their name is hidden again (rule 5): the spaces follow.
  await ctx.queue.placeInSpaces(networkId, removed.authorId);
}

export async function recordBooking(
  networkId: string,
  bookingId: string,
  booking: { locationId?: string; participantIds: string[]; shared: boolean },
): Promise<void> {
  await requireNetwork(networkId);
  await upsertBooking(networkId, bookingId, { ...booking, participantIds: [...new Set(booking.participantIds)] });
}
