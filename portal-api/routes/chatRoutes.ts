import { Readable } from 'node:stream';
import { z } from 'zod';
import { ForbiddenError, InvalidRequestError, NotFoundError } from '../../appservice/errors';
import type { Actor, Conversation } from '../../appservice/domain/conversationService';
import type { ChatPath } from '../../appservice/domain/chatRules';
import { BookingModel, ConversationModel, CustomerModel, FeedPostModel, NetworkModel } from '../../appservice/domain/models';
import { ReadMarkers } from '../../appservice/domain/readMarkers';
import { Unsend } from '../../appservice/domain/unsend';
import { Attachments } from '../../appservice/domain/attachments';
import { attachmentPolicyOf, checkAttachmentType } from '../../appservice/domain/attachmentPolicy';
import { defineRoute, hostIdSchema } from '../routeTable';
import type { Caller } from '../auth';
import type { PortalDeps } from '../portalDeps';
import { readAttachmentUpload } from '../attachmentUpload';
import { decodeCursor, encodeCursor } from '../../appservice/domain/pageCursor';
import { inboxPageFromHead } from '../../appservice/domain/supportInbox';
import { customerDocId } from '../../appservice/domain/entityIds';

const chatParams = z.object({ chatId: z.string().regex(/^ch_[A-Za-z0-9_-]{16}$/, 'not a chat id') });
const txnId = z.string().min(1).max(128).regex(/^[A-Za-z0-9._~-]+$/, 'letters, digits and ._~- only');
/** A Matrix event id (room versions 4+: "$" and URL-safe base64). */
const messageIdSchema = z.string().regex(/^\$[A-Za-z0-9+/=_-]{1,254}$/, 'not a message id');
const mediaIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'not a media id');
export const pageQuery = z.object({
  cursor: z.string().min(1).max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export function actorOf(caller: Caller): Actor {
  if (caller.role !== 'customer' && caller.role !== 'admin') throw new ForbiddenError();
  return { kind: caller.role, networkId: caller.networkId!, id: caller.sub };
}

export function chatView(c: Conversation) {
  return {
    id: c._id,
    kind: c.kind,
    networkId: c.networkId,
    customerIds: c.customerIds,
    matrixRoomId: c.roomId ?? null,
    lastActivityAt: new Date(c.lastActivityAt).toISOString(),
    lastMessage: c.lastMessage?.eventId
      ? {
          id: c.lastMessage.eventId,
          senderId: c.lastMessage.senderId ?? null,
          body: c.lastMessage.body,
          sentAt: c.lastMessage.at ? new Date(c.lastMessage.at).toISOString() : null,
        }
      : null,
  };
}

/**
 * A page of conversations, newest activity first, with the caller's unread count on each. A
 * network's support inbox (`supportInboxOf`) reads its first pages from the inbox head
 * (supportInbox.ts, lookups by _id); other lists and deeper pages use the indexed query.
 */
export async function chatListPage(
  deps: PortalDeps,
  actor: Actor,
  filter: Record<string, unknown>,
  page: { cursor?: string; limit: number },
  supportInboxOf?: string,
) {
  const { matrix, conversations } = deps.services;
  const after = page.cursor ? decodeCursor(page.cursor, ['number', 'string'] as const) : null;
  let chats: Conversation[] | null = null;
  let next: { at: number; id: string } | null = null;
  let markers: Awaited<ReturnType<ReadMarkers['markersOf']>> | undefined;
  let people: Map<string, Participant> | undefined;
  const readMarkers = new ReadMarkers(matrix, conversations);
  if (supportInboxOf) {
    const fromHead = await inboxPageFromHead(supportInboxOf, page.limit, after ? { at: new Date(after[0]), chatId: after[1] } : undefined);
    if (fromHead) {
      // The head names the conversations and their customers: every lookup of the page at once.
      const ids = fromHead.entries.map((e) => e.chatId);
      const customerIds = fromHead.entries.every((e) => e.customerIds) ? [...new Set(fromHead.entries.flatMap((e) => e.customerIds!))] : null;
      const [docs, loadedMarkers, loadedPeople] = await Promise.all([
        Promise.all(ids.map((id) => ConversationModel.findById(id).lean<Conversation>())),
        readMarkers.markersOf(ids, actor),
        customerIds ? participantsById(supportInboxOf, customerIds) : undefined,
      ]);
      chats = docs.filter((c): c is Conversation => c !== null);
      markers = loadedMarkers;
      people = loadedPeople;
      const last = fromHead.entries[fromHead.entries.length - 1];
      next = fromHead.more && last ? { at: last.at.getTime(), id: last.chatId } : null;
    }
  }
  if (!chats) {
    const conditions: Record<string, unknown>[] = [filter];
    if (after) {
      const at = new Date(after[0]);
      conditions.push({ $or: [{ lastActivityAt: { $lt: at } }, { lastActivityAt: at, _id: { $lt: after[1] } }] });
    }
    const docs = await ConversationModel.find(conditions.length === 1 ? filter : { $and: conditions })
      .sort({ lastActivityAt: -1, _id: -1 })
      .limit(page.limit + 1)
      .lean<Conversation[]>();
    chats = docs.slice(0, page.limit);
    const last = chats[chats.length - 1];
    next = docs.length > page.limit && last ? { at: new Date(last.lastActivityAt).getTime(), id: last._id } : null;
  }
  const [unread, views] = await Promise.all([readMarkers.unreadCounts(chats, actor, markers), withParticipants(chats, people)]);
  return {
    chats: views.map((v) => ({ ...v, unreadCount: unread.get(v.id) ?? 0 })),
    nextCursor: next ? encodeCursor([next.at, next.id]) : null,
  };
}

interface Participant {
  customerId: string;
  displayName: string;
  avatarUrl?: string | null;
  kind: string;
}

/** Customers by id: one lookup by _id each (FerretDB scans the collection for `$in`). */
async function participantsById(networkId: string, ids: readonly string[]): Promise<Map<string, Participant>> {
  const customers = await Promise.all(
    ids.map((id) => CustomerModel.findById(customerDocId(networkId, id)).select({ customerId: 1, displayName: 1, avatarUrl: 1, kind: 1 }).lean<Participant>()),
  );
  return new Map(customers.filter((c): c is Participant => c !== null).map((c) => [c.customerId, c]));
}

/** chatView plus each customer's name, for lists and details. */
export async function withParticipants(chats: readonly Conversation[], known?: Map<string, Participant>) {
  const networkId = chats[0]?.networkId;
  const byId = known ?? (networkId ? await participantsById(networkId, [...new Set(chats.flatMap((c) => c.customerIds))]) : new Map<string, Participant>());
  return chats.map((c) => ({
    ...chatView(c),
    participants: c.customerIds.map((id) => {
      const person = byId.get(id);
      return { customerId: id, displayName: person?.displayName ?? null, avatarUrl: person?.avatarUrl ?? null, kind: person?.kind ?? null };
    }),
  }));
}

export function chatRoutes(deps: PortalDeps) {
  const { conversations, matrix } = deps.services;
  const readMarkers = new ReadMarkers(matrix, conversations);
  const unsend = new Unsend(matrix, conversations);
  const attachments = new Attachments(matrix, conversations, deps.services.config.matrixDomain);

  return [
    defineRoute({
      method: 'get',
      path: '/v1/chats',
      summary: "This customer's conversations (direct and support), newest activity first, with unread counts",
      roles: ['customer'],
      query: pageQuery,
      handler: async ({ query, caller }) => {
        const actor = actorOf(caller);
        await conversations.assertChatsEnabled(actor.networkId);
        return chatListPage(deps, actor, { networkId: actor.networkId, customerIds: actor.id }, query);
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/chats',
      summary: 'Open (or return the existing) direct conversation with another customer, if the rules allow',
      roles: ['customer'],
      body: z.strictObject({
        userId: hostIdSchema,
        via: z
          .strictObject({ type: z.enum(['community', 'feed_post', 'booking']), id: hostIdSchema.optional() })
          .refine((v) => v.type === 'community' || v.id !== undefined, { message: 'id is required for feed_post and booking', path: ['id'] })
          .default({ type: 'community' }),
      }),
      handler: async ({ body, caller, ctx }) => {
        const actor = actorOf(caller);
        const path = await resolvePath(actor.networkId, body.via);
        const conversation = await conversations.openDirect(actor, body.userId, path);
        ctx.status = 200;
        ctx.body = chatView(conversation);
        return undefined;
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/chats/support',
      summary: "Open (or return) this customer's conversation with the network's administrators",
      roles: ['customer'],
      handler: async ({ caller }) => {
        const actor = actorOf(caller);
        return chatView(await conversations.openSupport(actor.networkId, actor.id, actor));
      },
    }),

    defineRoute({
      method: 'get',
      path: '/v1/chats/:chatId',
      summary: 'Conversation details, participants and its Matrix room id',
      roles: ['customer', 'admin'],
      params: chatParams,
      handler: async ({ params, caller }) => {
        const actor = actorOf(caller);
        const [view] = await withParticipants([await conversations.openForParticipant(params.chatId, actor, { fresh: true })]);
        return view;
      },
    }),

    defineRoute({
      method: 'get',
      path: '/v1/chats/:chatId/messages',
      summary: 'Messages, newest first; redacted ones are gone',
      roles: ['customer', 'admin'],
      params: chatParams,
      query: z.object({
        from: z.string().min(1).max(512).optional(),
        limit: z.coerce.number().int().min(1).max(100).default(50),
      }),
      handler: async ({ params, query, caller }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        return conversations.listMessages(conversation, actor, { from: query.from, limit: query.limit });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/chats/:chatId/messages',
      summary: 'Send text; the same txnId never creates a second message',
      roles: ['customer', 'admin'],
      params: chatParams,
      body: z.strictObject({ txnId, body: z.string().trim().min(1).max(20000) }),
      status: 201,
      handler: async ({ params, body, caller }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        const eventId = await conversations.sendText(conversation, actor, body.txnId, body.body);
        return { id: eventId, chatId: conversation._id, txnId: body.txnId };
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/v1/chats/:chatId/messages/:messageId',
      summary: "Unsend one's own message (a Matrix redaction); it disappears for everyone",
      roles: ['customer', 'admin'],
      params: chatParams.extend({ messageId: messageIdSchema }),
      handler: async ({ params, caller }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        await unsend.unsend(conversation, actor, params.messageId);
        return undefined;
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/chats/:chatId/read',
      summary: 'Mark the conversation read up to a message (Matrix read receipt and fully-read marker)',
      roles: ['customer', 'admin'],
      params: chatParams,
      body: z.strictObject({ messageId: messageIdSchema }),
      handler: async ({ params, body, caller }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        return { chatId: conversation._id, ...(await readMarkers.markRead(conversation, actor, body.messageId)) };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/chats/:chatId/attachments',
      summary: "Send a file (multipart field `file`, plus `txnId`), checked by content against the network's attachment policy",
      roles: ['customer', 'admin'],
      params: chatParams,
      rawBody: { file: { type: 'string', format: 'binary' }, txnId: { type: 'string' } },
      status: 201,
      handler: async ({ params, caller, ctx }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        const network = await NetworkModel.findById(actor.networkId).lean();
        if (!network) throw new NotFoundError('network');
        const policy = attachmentPolicyOf(network);
        const upload = await readAttachmentUpload(ctx.req, policy.maxBytes);
        const txn = txnId.safeParse(upload.txnId);
        if (!txn.success) throw new InvalidRequestError('txnId', upload.txnId === undefined ? 'required' : txn.error.issues[0]!.message);
        const { fileTypeFromBuffer } = await import('file-type');
        const mimeType = checkAttachmentType(policy, (await fileTypeFromBuffer(upload.data))?.mime);
        const sent = await attachments.send(conversation, actor, txn.data, { data: upload.data, name: upload.name, mimeType });
        return {
          id: sent.messageId,
          chatId: conversation._id,
          txnId: txn.data,
          attachment: { mediaId: sent.mediaId, name: upload.name, mimeType, size: upload.data.length },
        };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/v1/chats/:chatId/media/:mediaId',
      summary: 'Download an attachment of this conversation (participants only), streamed',
      roles: ['customer', 'admin'],
      params: chatParams.extend({ mediaId: mediaIdSchema }),
      handler: async ({ params, caller, ctx }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        const media = await attachments.open(conversation, actor, params.mediaId);
        const { response } = media;
        ctx.status = 200;
        ctx.type = response.headers.get('content-type') ?? 'application/octet-stream';
        const length = response.headers.get('content-length');
        if (length) ctx.length = Number(length);
        ctx.attachment(media.name);
        // The file is served from the API's origin: never let a browser run or re-interpret it.
        ctx.set('X-Content-Type-Options', 'nosniff');
        ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
        ctx.body = response.body ? Readable.fromWeb(response.body as import('node:stream/web').ReadableStream) : '';
        return undefined;
      },
    }),
  ];
}

/** Turns the request's `via` into the facts the rules need, scoped to the caller's network. */
async function resolvePath(networkId: string, via: { type: 'community' | 'feed_post' | 'booking'; id?: string }): Promise<ChatPath> {
  if (via.type === 'community') return { type: 'community' };
  if (via.type === 'feed_post') {
    const post = await FeedPostModel.findOne({ networkId, postId: via.id }).lean();
    // An unknown post reaches nobody; the answer stays the generic "not reachable".
    return post ? { type: 'feed_post', authorId: post.authorId } : { type: 'none' };
  }
  const booking = await BookingModel.findOne({ networkId, bookingId: via.id }).lean();
  return booking ? { type: 'booking', participantIds: booking.participantIds, shared: booking.shared } : { type: 'none' };
}

