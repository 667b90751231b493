import { Readable } from 'node:stream';
import { z } from 'zod';
import { ForbiddenError, InvalidRequestError, NotFoundError } from '../../runtime';
import { attachmentPolicyOf, chatListPage, checkAttachmentType, participantsOf, resolveChatPath } from '../../appservice';
import { chatListSchema, chatSchema, chatWithParticipantsSchema, messagePageSchema, readPositionSchema, sentAttachmentSchema, sentMessageSchema } from '../responseSchemas';
import { defineRoute, hostIdSchema } from '../routeTable';
import { actorOf, pageQuery } from '../routeInputs';
import { chatListView, chatView, chatWithParticipantsView } from '../presenters';
import type { PortalDeps } from '../portalDeps';
import { readAttachmentUpload } from '../attachmentUpload';
import { findNetwork } from '../../store';

const chatParams = z.object({ chatId: z.string().regex(/^ch_[A-Za-z0-9_-]{16}$/, 'not a chat id') });
const txnId = z.string().min(1).max(128).regex(/^[A-Za-z0-9._~-]+$/, 'letters, digits and ._~- only');
/** A Matrix event id (room versions 4+: "$" and URL-safe base64). */
const messageIdSchema = z.string().regex(/^\$[A-Za-z0-9+/=_-]{1,254}$/, 'not a message id');
/**
 * A message's text. Synapse refuses events over 64 KiB of JSON. Without control characters
 * (refused here, except tab and line breaks; JSON escapes them to 6 bytes each) 20,000 UTF-16 units
 * are at most 60,000 bytes of UTF-8 (3 per unit), so every text this accepts fits in an event.
 */
const messageText = z
  .string()
  .trim()
  .min(1)
  .max(20000)
  .regex(/^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/, 'must not contain control characters (tab and line breaks are fine)');
const mediaIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'not a media id');
export function chatRoutes(deps: PortalDeps) {
  const { conversations, readMarkers, unsend, attachments } = deps.services;

  return [
    defineRoute({
      method: 'get',
      path: '/v1/chats',
      operationId: 'listChats',
      tag: 'chats',
      response: chatListSchema,
      summary: "This customer's conversations (direct and support), newest activity first, with unread counts",
      roles: ['customer'],
      query: pageQuery,
      handler: async ({ query, caller }) => {
        const actor = actorOf(caller);
        await conversations.assertChatsEnabled(actor.networkId);
        return chatListView(await chatListPage(readMarkers, actor, { kind: 'customer', networkId: actor.networkId, customerId: actor.id }, query));
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/chats',
      operationId: 'openDirectChat',
      tag: 'chats',
      response: chatSchema,
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
        const path = await resolveChatPath(actor.networkId, body.via);
        const conversation = await conversations.openDirect(actor, body.userId, path);
        ctx.status = 200;
        ctx.body = chatView(conversation);
        return undefined;
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/chats/support',
      operationId: 'openSupportChat',
      tag: 'chats',
      response: chatSchema,
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
      operationId: 'getChat',
      tag: 'chats',
      response: chatWithParticipantsSchema,
      summary: 'Conversation details, participants and its Matrix room id',
      roles: ['customer', 'admin'],
      params: chatParams,
      handler: async ({ params, caller }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor, { fresh: true });
        return chatWithParticipantsView(conversation, await participantsOf([conversation]));
      },
    }),

    defineRoute({
      method: 'get',
      path: '/v1/chats/:chatId/messages',
      operationId: 'listMessages',
      tag: 'chats',
      response: messagePageSchema,
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
        return conversations.history.list(conversation, actor, { from: query.from, limit: query.limit });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/chats/:chatId/messages',
      operationId: 'sendMessage',
      tag: 'chats',
      response: sentMessageSchema,
      summary: 'Send text; the same txnId never creates a second message',
      roles: ['customer', 'admin'],
      params: chatParams,
      body: z.strictObject({ txnId, body: messageText }),
      status: 201,
      handler: async ({ params, body, caller }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        const eventId = await conversations.sends.send(conversation, actor, body.txnId, { msgtype: 'm.text', body: body.body });
        return { id: eventId, chatId: conversation._id, txnId: body.txnId };
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/v1/chats/:chatId/messages/:messageId',
      operationId: 'unsendMessage',
      tag: 'chats',
      response: null,
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
      operationId: 'markChatRead',
      tag: 'chats',
      response: readPositionSchema,
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
      operationId: 'sendAttachment',
      tag: 'chats',
      response: sentAttachmentSchema,
      summary: "Send a file (multipart field `file`, plus `txnId`), checked by content against the network's attachment policy",
      roles: ['customer', 'admin'],
      params: chatParams,
      rawBody: { file: { type: 'string', format: 'binary' }, txnId: { type: 'string' } },
      status: 201,
      handler: async ({ params, caller, ctx }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        const network = await findNetwork(actor.networkId);
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
      operationId: 'downloadMedia',
      tag: 'chats',
      response: null,
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
