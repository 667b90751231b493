import { Readable } from 'node:stream';
import { z } from 'zod';
import { ForbiddenError, InvalidRequestError, NotFoundError } from '../../runtime';
import { attachmentPolicyOf, chatListPage, prefetchNetwork, checkAttachmentType, isValidReactionKey, participantsOf, REACTION_KEY_MAX_CHARACTERS, resolveChatPath } from '../../appservice';
import { chatListSchema, chatSchema, chatWithParticipantsSchema, readPositionSchema, sentAttachmentSchema, sentMessageSchema } from '../responseSchemas';
import { defineRoute, hostIdSchema } from '../routeTable';
import { actorOf, pageQuery } from '../routeInputs';
import { chatListView, chatView, chatWithParticipantsView, messagePageSchema, messagePageView, messageSchema, messageView, readMarkersView } from '../presenters';
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
/** A reaction key (the path segment, decoded): one emoji, or a short text. */
const reactionKey = z
  .string()
  .max(256)
  .refine(isValidReactionKey, `one emoji, or text of at most ${REACTION_KEY_MAX_CHARACTERS} characters without control characters or surrounding spaces`);
const messageParams = chatParams.extend({ messageId: messageIdSchema });
export function chatRoutes(deps: PortalDeps) {
  const { conversations, readMarkers, unsend, attachments, edits, reactions, typing } = deps.services;

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
      response: chatWithParticipantsSchema.extend({
        readMarkers: z.array(z.object({ participant: z.object({ kind: z.enum(['customer', 'admin']), id: z.string() }), messageId: z.string(), readAt: z.string() })),
      }),
      summary: 'Conversation details, participants, its Matrix room id and how far each participant has read (readMarkers)',
      roles: ['customer', 'admin'],
      params: chatParams,
      handler: async ({ params, caller }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor, { fresh: true });
        const [participants, markers] = await Promise.all([participantsOf([conversation]), readMarkers.markersOfChat(conversation)]);
        return { ...chatWithParticipantsView(conversation, participants), readMarkers: readMarkersView(markers) };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/v1/chats/:chatId/messages',
      operationId: 'listMessages',
      tag: 'chats',
      summary: 'Messages, newest first; redacted ones are gone',
      roles: ['customer', 'admin'],
      params: chatParams,
      // As for a send, the chats switch is read beside the status check; and a customer's page is
      // asked of Synapse meanwhile when the conversation is in memory (MessageHistory.prefetchPage).
      prefetch: (caller, input) => {
        if (!caller.networkId) return;
        // Synapse's call first: it is the longest.
        const actor = actorOf(caller);
        const remembered = input && conversations.access.rememberedForParticipant(input.params.chatId, actor);
        if (remembered) conversations.history.prefetchPage(remembered, actor, input.query);
        prefetchNetwork(caller.networkId);
      },
      query: z.object({
        from: z.string().min(1).max(512).optional(),
        limit: z.coerce.number().int().min(1).max(100).default(50),
      }),
      response: messagePageSchema,
      handler: async ({ params, query, caller }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        return messagePageView(await conversations.history.list(conversation, actor, { from: query.from, limit: query.limit }));
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/chats/:chatId/messages',
      operationId: 'sendMessage',
      tag: 'chats',
      summary: 'Send text, optionally as a reply (`replyTo`: a message id of this conversation); the same txnId never creates a second message',
      roles: ['customer', 'admin'],
      params: chatParams,
      body: z.strictObject({ txnId, body: messageText, replyTo: messageIdSchema.optional() }),
      status: 201,
      // The chats switch of the caller's network is read beside the limiter and status checks.
      prefetch: (caller) => caller.networkId && prefetchNetwork(caller.networkId),
      response: z.object({ id: z.string(), chatId: z.string(), txnId: z.string(), replyTo: z.string().optional() }),
      handler: async ({ params, body, caller }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        if (body.replyTo && !(await conversations.history.one(conversation, actor, body.replyTo))) {
          throw new InvalidRequestError('replyTo', 'not a message of this conversation');
        }
        const eventId = await conversations.sends.send(conversation, actor, body.txnId, {
          msgtype: 'm.text',
          body: body.body,
          ...(body.replyTo ? { 'm.relates_to': { 'm.in_reply_to': { event_id: body.replyTo } } } : {}),
        });
        return { id: eventId, chatId: conversation._id, txnId: body.txnId, ...(body.replyTo ? { replyTo: body.replyTo } : {}) };
      },
    }),

    defineRoute({
      method: 'patch',
      path: '/v1/chats/:chatId/messages/:messageId',
      operationId: 'patchChatsMessages',
      tag: 'chats',
      summary: "Edit one's own text message (a Matrix m.replace); answers the message in its new version. Another's message: 403",
      roles: ['customer', 'admin'],
      params: messageParams,
      body: z.strictObject({ body: messageText }),
      response: messageSchema,
      handler: async ({ params, body, caller }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        return messageView(await edits.edit(conversation, actor, params.messageId, body.body));
      },
    }),

    defineRoute({
      method: 'put',
      path: '/v1/chats/:chatId/messages/:messageId/reactions/:key',
      operationId: 'putChatsMessagesReactions',
      tag: 'chats',
      response: null,
      summary: "Add the caller's reaction (key: one emoji, or text of at most 16 characters, URL-encoded); idempotent",
      roles: ['customer', 'admin'],
      params: messageParams.extend({ key: reactionKey }),
      status: 204,
      handler: async ({ params, caller }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        await reactions.react(conversation, actor, params.messageId, params.key);
        return undefined;
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/v1/chats/:chatId/messages/:messageId/reactions/:key',
      operationId: 'deleteChatsMessagesReactions',
      tag: 'chats',
      response: null,
      summary: "Remove the caller's reaction (a Matrix redaction); removing one that is not there is not an error",
      roles: ['customer', 'admin'],
      params: messageParams.extend({ key: reactionKey }),
      status: 204,
      handler: async ({ params, caller }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        await reactions.unreact(conversation, actor, params.messageId, params.key);
        return undefined;
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
      params: messageParams,
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
      path: '/v1/chats/:chatId/typing',
      operationId: 'postChatsTyping',
      tag: 'chats',
      response: null,
      summary: "The caller is (not) typing: their virtual user's typing in the room (Matrix clients show it) and a typing event on the participants' streams",
      roles: ['customer', 'admin'],
      params: chatParams,
      body: z.strictObject({ typing: z.boolean() }),
      handler: async ({ params, body, caller }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        await typing.setTyping(conversation, actor, body.typing);
        return undefined;
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
        const homeserverLimit = await attachments.homeserverUploadLimit();
        const upload = await readAttachmentUpload(ctx.req, homeserverLimit === null ? policy.maxBytes : Math.min(policy.maxBytes, homeserverLimit));
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
