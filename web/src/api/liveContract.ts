import type { components, paths as servedPaths } from './schema';

/**
 * The v1.1 routes of API.md (live events, typing, edit, reactions, readMarkers), typed by hand in
 * openapi-typescript's shape until the portal API serves them; then `npm run api-types` puts them
 * in schema.d.ts and the entries here can go. The merge below lets these add methods to a path the
 * served document already has (PATCH beside DELETE on a message).
 */
type ErrorBody = components['schemas']['Error'];
type Json<T> = { content: { 'application/json': T } };
type Op<Params, Body, Ok, Status extends number = 200> = {
  parameters: Params;
  requestBody?: Body extends undefined ? never : Json<Body>;
  responses: { [S in Status]: Ok extends undefined ? { content?: never } : Json<Ok> } & { default: Json<ErrorBody> };
};
type ChatPath = { path: { chatId: string } };
type MessagePath = { path: { chatId: string; messageId: string } };
type ReactionPath = { path: { chatId: string; messageId: string; key: string } };

type ServedMessage = servedPaths['/v1/chats/{chatId}/messages']['get']['responses'][200]['content']['application/json']['messages'][number];

/** A message with the rich fields of v1.1 (absent on servers without them). */
export type RichMessage = Omit<ServedMessage, 'editedAt' | 'replyTo' | 'reactions'> & {
  editedAt?: string;
  replyTo?: { id: string; sender: ServedMessage['sender'] | null; bodyPreview: string | null };
  reactions?: Array<{ key: string; count: number; mine: boolean }>;
};

export type ReadMarker = { participant: { kind: 'customer' | 'admin'; id: string } | string; messageId: string; readAt: string };

type LivePaths = {
  '/v1/me/event-ticket': { post: Op<{}, undefined, { ticket: string; expiresIn: number }> };
  '/v1/chats/{chatId}/typing': { post: Op<ChatPath, { typing: boolean }, undefined, 204> };
  '/v1/chats/{chatId}/messages': { post: Op<ChatPath, { txnId: string; body: string; replyTo?: string }, { id: string; chatId: string; txnId: string }, 201> };
  '/v1/chats/{chatId}/messages/{messageId}': { patch: Op<MessagePath, { body: string }, RichMessage> };
  '/v1/chats/{chatId}/messages/{messageId}/reactions/{key}': {
    put: Op<ReactionPath, undefined, RichMessage>;
    delete: Op<ReactionPath, undefined, RichMessage>;
  };
};

type Merge<A, B> = {
  [K in keyof A | keyof B]: K extends keyof B ? (K extends keyof A ? Omit<A[K], keyof B[K]> & B[K] : B[K]) : K extends keyof A ? A[K] : never;
};

export type ApiPaths = Merge<servedPaths, LivePaths>;
