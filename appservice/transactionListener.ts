import { createHash, timingSafeEqual } from 'node:crypto';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { type Logger, type ReadinessChecks, httpMetrics, probeRoutes } from '../runtime';
import type { TransactionProcessor } from './transactionProcessor';
import type { HomeserverRules } from './domain/homeserverRules';
import { homeserverRulesRouter } from './homeserverRulesRoutes';
import { AppserviceTransactionModel, recordPingReceived } from '../store';

/**
 * The HTTP listener Synapse pushes to (Application Service API v1). A transaction is written to
 * MongoDB before the 200 goes out, so a crash right after the acknowledgement loses nothing;
 * a repeated txnId (Synapse retries after failures) is stored once.
 */
export function createTransactionListener(opts: {
  hsToken: string;
  processor: TransactionProcessor;
  userExists: (userId: string) => Promise<boolean>;
  /** Synapse's questions before it acts (homeserverRulesRoutes.ts), under the same hs_token. */
  rules?: HomeserverRules;
  /** GET /livez and /readyz, answered without the hs_token (README "Deploying › Probes"). */
  readiness?: ReadinessChecks;
  log: Logger;
}): Koa {
  const app = new Koa();
  const router = new Router({ prefix: '/_matrix/app/v1' });
  const expected = digest(opts.hsToken);

  app.use(httpMetrics('appservice'));
  if (opts.readiness) app.use(probeRoutes(opts.readiness));
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      opts.log.error({ err, path: ctx.path }, 'appservice request failed');
      ctx.status = 500;
      ctx.body = { errcode: 'M_UNKNOWN', error: 'internal error' };
    }
  });
  app.use(async (ctx, next) => {
    const header = ctx.get('authorization');
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    // Constant-time comparison of equal-length digests.
    if (!token || !timingSafeEqual(digest(token), expected)) {
      ctx.status = token ? 403 : 401;
      ctx.body = { errcode: token ? 'M_FORBIDDEN' : 'M_UNAUTHORIZED', error: 'bad hs_token' };
      return;
    }
    await next();
  });
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '50mb' }));

  router.put('/transactions/:txnId', async (ctx) => {
    const body = (ctx.request.body ?? {}) as { events?: unknown[]; ephemeral?: unknown[]; 'de.sorunome.msc2409.ephemeral'?: unknown[] };
    const events = Array.isArray(body.events) ? body.events : [];
    const ephemeral = Array.isArray(body.ephemeral)
      ? body.ephemeral
      : Array.isArray(body['de.sorunome.msc2409.ephemeral'])
        ? body['de.sorunome.msc2409.ephemeral']
        : [];
    await AppserviceTransactionModel.updateOne(
      { _id: ctx.params.txnId },
      { $setOnInsert: { eventsJson: JSON.stringify(events), ephemeralJson: JSON.stringify(ephemeral) } },
      { upsert: true },
    );
    ctx.body = {};
    void opts.processor.process(ctx.params.txnId);
  });

  router.post('/ping', async (ctx) => {
    // Recorded before the answer, so a health check can tell a ping Synapse failed to relay back
    // from one that never arrived (store/appservicePings.ts).
    const transactionId = (ctx.request.body as { transaction_id?: unknown } | undefined)?.transaction_id;
    if (typeof transactionId === 'string' && transactionId.length <= 255) {
      await recordPingReceived(transactionId).catch((err) => opts.log.warn({ err: (err as Error).message }, 'could not record a ping'));
    }
    ctx.body = {};
  });

  // Synapse asks before a client may talk to a user of our namespace that does not exist yet.
  router.get('/users/:userId', async (ctx) => {
    if (await opts.userExists(ctx.params.userId ?? '')) {
      ctx.body = {};
    } else {
      ctx.status = 404;
      ctx.body = { errcode: 'M_NOT_FOUND', error: 'no such user' };
    }
  });

  router.get('/rooms/:alias', (ctx) => {
    ctx.status = 404;
    ctx.body = { errcode: 'M_NOT_FOUND', error: 'conversation rooms are created by the service' };
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  if (opts.rules) {
    const rules = homeserverRulesRouter(opts.rules, opts.log.child({ module: 'homeserverRules' }));
    app.use(rules.routes());
    app.use(rules.allowedMethods());
  }
  return app;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
