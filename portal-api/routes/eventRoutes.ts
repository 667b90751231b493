import { z } from 'zod';
import { ForbiddenError, UnauthenticatedError } from '../../runtime';
import { issueEventTicket, redeemEventTicket, TICKET_TTL_SECONDS } from '../../live';
import { findParticipant } from '../../appservice';
import { verifyBearer, type Caller } from '../auth';
import { answerWithEventStream } from '../eventStream';
import { defineRoute } from '../routeTable';
import { actorOf } from '../routeInputs';
import type { PortalDeps } from '../portalDeps';

/** A client's Last-Event-ID: ours are `<ms>-<seq>`; anything else (bounded) earns a resync. */
const lastEventIdSchema = z.string().min(1).max(64);

/** The live event stream (API.md "Live events") and the tickets that open it from a browser. */
export function eventRoutes(deps: PortalDeps) {
  const { config } = deps.services;

  return [
    defineRoute({
      method: 'post',
      path: '/v1/me/event-ticket',
      operationId: 'postMeEventTicket',
      tag: 'me',
      response: z.object({ ticket: z.string(), expiresIn: z.number().int() }),
      summary: `A single-use ticket (valid ${TICKET_TTL_SECONDS} s) that opens GET /v1/events?ticket= without an Authorization header (browsers' EventSource)`,
      roles: ['customer', 'admin'],
      handler: async ({ caller }) => {
        actorOf(caller);
        const holder: Caller = { role: caller.role, sub: caller.sub, networkId: caller.networkId, expiresAt: caller.expiresAt };
        return issueEventTicket(deps.redis, holder);
      },
    }),

    defineRoute({
      method: 'get',
      path: '/v1/events',
      operationId: 'getEvents',
      tag: 'me',
      response: null,
      summary: 'The caller\'s live events (text/event-stream): message.created, message.updated, message.deleted, chat.created, chat.updated, chat.read, typing, features.changed, notification.created, resync',
      description:
        'Authenticate with `Authorization: Bearer` or a `ticket` from POST /v1/me/event-ticket (used once). Each event has `id:` (increasing per caller), `event:` (the type) and `data:` (JSON: the object the REST routes return, plus chatId). ' +
        'Reconnect with the `Last-Event-ID` header (or `lastEventId`) to receive exactly what was missed, in order; beyond the retention (24 h or 10,000 events) one `resync` event says to reload. ' +
        'A comment line at least every 25 s. The stream ends when the token expires or the caller is deactivated. At most LIVE_MAX_STREAMS_PER_CALLER (5) open streams per caller: one more is answered 429.',
      roles: ['customer', 'admin'],
      query: z.object({ ticket: z.string().min(1).max(128).optional(), lastEventId: lastEventIdSchema.optional() }),
      produces: 'text/event-stream',
      authenticate: async (ctx) => {
        const ticket = ctx.query.ticket;
        if (typeof ticket === 'string' && ticket !== '') {
          const holder = await redeemEventTicket<Caller>(deps.redis, ticket);
          if (!holder) throw new UnauthenticatedError('the ticket is not valid (unknown, already used or expired)');
          if (holder.expiresAt !== undefined && holder.expiresAt <= Date.now()) throw new UnauthenticatedError('the token has expired');
          return holder;
        }
        return verifyBearer(ctx.get('authorization') || undefined, config.jwt);
      },
      handler: async ({ query, caller, ctx }) => {
        const actor = actorOf(caller);
        const person = await findParticipant(actor);
        if (person?.status !== 'active') throw new ForbiddenError('no active chat account for this caller');
        const header = ctx.get('last-event-id');
        const lastEventId = header ? lastEventIdSchema.safeParse(header).data : query.lastEventId;
        await answerWithEventStream(ctx, deps.liveHub, actor, {
          lastEventId,
          expiresAt: caller.expiresAt,
          maxStreams: config.live.maxStreamsPerCaller,
          heartbeatMs: config.live.heartbeatMs,
        });
        return undefined;
      },
    }),
  ];
}
