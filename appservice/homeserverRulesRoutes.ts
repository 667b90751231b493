import Router from '@koa/router';
import type { Logger } from '../runtime';
import { HOMESERVER_RULES_PATH, HOMESERVER_RULES_UNAVAILABLE, type HomeserverRules, type RuleAnswer } from './domain/homeserverRules';

/**
 * The HTTP face of the homeserver's questions (synapse-http-antispam 0.5.1: `POST
 * {base_url}/{callback}` with a JSON body, authenticated like transactions with the hs_token by the
 * listener). A 2xx JSON answer lets the action through; a 403 `{errcode, error}` refuses it, and
 * Synapse hands that error to the Matrix client.
 */
export function homeserverRulesRouter(rules: HomeserverRules, log: Logger): Router {
  const router = new Router({ prefix: HOMESERVER_RULES_PATH });
  // A rule that could not be decided (the database away) refuses, for events too, with a reason the
  // service's own clients recognise as "try again" (MatrixApi).
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      log.warn({ err: (err as Error).message, path: ctx.path }, 'a homeserver rule could not be decided');
      ctx.status = 503;
      ctx.body = { errcode: 'M_UNKNOWN', error: HOMESERVER_RULES_UNAVAILABLE };
    }
  });
  const body = (ctx: { request: { body?: unknown } }) => (ctx.request.body ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const answer = (ctx: { status: number; body: unknown }, a: RuleAnswer) => {
    if (a.allowed) {
      ctx.body = {};
    } else {
      ctx.status = 403;
      ctx.body = { errcode: a.errcode, error: a.error };
    }
  };

  router.post('/user_may_create_room', async (ctx) => answer(ctx, await rules.createRoom(str(body(ctx).user_id))));
  router.post('/user_may_join_room', async (ctx) => {
    const b = body(ctx);
    answer(ctx, await rules.joinRoom(str(b.user), str(b.room), b.is_invited === true));
  });
  router.post('/user_may_invite', async (ctx) => {
    const b = body(ctx);
    answer(ctx, await rules.invite(str(b.inviter), str(b.invitee), str(b.room_id)));
  });
  router.post('/user_may_send_3pid_invite', (ctx) => answer(ctx, rules.thirdPartyInvite(str(body(ctx).inviter))));
  router.post('/user_may_create_room_alias', (ctx) => answer(ctx, rules.createAlias(str(body(ctx).user_id))));
  router.post('/user_may_publish_room', (ctx) => answer(ctx, rules.publishRoom(str(body(ctx).user_id))));
  router.post('/check_event_for_spam', async (ctx) => {
    const event = body(ctx).event;
    const a = await rules.event(event && typeof event === 'object' ? (event as Record<string, unknown>) : {});
    if (!a.allowed) log.info({ roomId: (event as { room_id?: string }).room_id, reason: a.error }, 'event refused at the homeserver');
    answer(ctx, a);
  });
  return router;
}
