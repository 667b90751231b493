import { z } from 'zod';
import { ForbiddenError } from '../../appservice/errors';
import type { Actor, Conversation } from '../../appservice/domain/conversationService';
import type { ChatPath } from '../../appservice/domain/chatRules';
import { BookingModel, FeedPostModel } from '../../appservice/domain/models';
import { defineRoute, hostIdSchema } from '../routeTable';
import type { Caller } from '../auth';
import type { PortalDeps } from '../portalDeps';

const chatParams = z.object({ chatId: z.string().regex(/^ch_[A-Za-z0-9_-]{16}$/, 'not a chat id') });
const txnId = z.string().min(1).max(128).regex(/^[A-Za-z0-9._~-]+$/, 'letters, digits and ._~- only');

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

export function chatRoutes(deps: PortalDeps) {
  const { conversations } = deps.services;

  return [
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
        await conversations.assertChatsEnabled(actor.networkId);
        return chatView(await conversations.getForParticipant(params.chatId, actor));
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
        await conversations.assertChatsEnabled(actor.networkId);
        const conversation = await conversations.getForParticipant(params.chatId, actor);
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
        await conversations.assertChatsEnabled(actor.networkId);
        const conversation = await conversations.getForParticipant(params.chatId, actor);
        const eventId = await conversations.sendText(conversation, actor, body.txnId, body.body);
        return { id: eventId, chatId: conversation._id, txnId: body.txnId };
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

