import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import cors from '@koa/cors';
import { type Config, type Logger, httpMetrics, probeRoutes, probesOpenApi } from '../runtime';
import { databaseConnected } from '../store';
import { errorMiddleware } from './errorMiddleware';
import { requestContext, type PortalState } from './requestContext';
import { openApiDocument, registerRoutes, type AnyRouteSpec } from './routeTable';
import type { PortalDeps } from './portalDeps';
import { hostSyncRoutes } from './routes/hostSyncRoutes';
import { chatRoutes } from './routes/chatRoutes';
import { meRoutes } from './routes/meRoutes';
import { safetyRoutes } from './routes/safetyRoutes';
import { customerExportRoutes } from './routes/customerExportRoutes';
import { eventRoutes } from './routes/eventRoutes';
import { notificationRoutes } from './routes/notificationRoutes';
import { registerUnsubscribePage, unsubscribeOpenApi } from './unsubscribePage';
import { opsRoutes } from './routes/opsRoutes';
import { communityRoutes } from './routes/communityRoutes';
import { adminRoutes } from './routes/adminRoutes';
import { callerRateLimit } from './rateLimit';
import { callerStatusCheck } from './callerStatus';
import { registerDocsPage } from './docsPage';
import { registerWebClient } from './webClient';
import { customerImportBodyParser, customerImportRoutes } from './routes/customerImportRoutes';
import { customerDeprovisionRoutes } from './routes/customerDeprovisionRoutes';
import { adminMembershipRoutes } from './routes/adminMembershipRoutes';
import { jobRoutes } from './routes/jobRoutes';
import { operatedQueues, queueRoutes } from './routes/queueRoutes';
import { queueDashboard } from './routes/queueDashboard';

export function allRoutes(deps: PortalDeps): AnyRouteSpec[] {
  return [
    ...hostSyncRoutes(deps),
    ...adminRoutes(deps),
    ...communityRoutes(),
    ...chatRoutes(deps),
    ...meRoutes(deps),
    ...safetyRoutes(deps),
    ...customerExportRoutes(deps),
    ...eventRoutes(deps),
    ...notificationRoutes(deps),
    ...opsRoutes(deps),
    ...customerImportRoutes(deps),
    ...customerDeprovisionRoutes(deps),
    ...adminMembershipRoutes(deps),
    ...jobRoutes(deps),
    ...queueRoutes(deps),
  ];
}

const API_INFO = { title: 'Coworking chat portal API', version: '1' };

/**
 * The OpenAPI document the API serves, from the configuration alone: what bin/apiTypes.ts
 * generates the web client's types from. Route declarations read only limits of the configuration;
 * their handlers (never called here) use the rest of the dependencies.
 */
export function portalOpenApiDocument(config: Config) {
  return openApiDocument(allRoutes({ services: { config } } as unknown as PortalDeps), API_INFO);
}

/** The portal API as a Koa app (no listening; start.ts does that). */
export function createPortalApp(deps: PortalDeps, log: Logger): Koa<PortalState> {
  const app = new Koa<PortalState>();
  app.proxy = false;
  // Errors that reach Koa itself come from streamed answers (errorMiddleware answers the rest):
  // a client closing its event stream or download is how those end, not a failure.
  app.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_STREAM_PREMATURE_CLOSE' || err.code === 'ECONNRESET' || err.code === 'EPIPE') return;
    log.error({ err: err.message }, 'response stream failed');
  });
  const routes = allRoutes(deps);
  const router = new Router();
  const openapi = openApiDocument(routes, API_INFO);
  Object.assign(openapi.paths, unsubscribeOpenApi(), probesOpenApi());
  router.get('/v1/openapi.json', (ctx) => {
    ctx.body = openapi;
  });
  registerDocsPage(router);
  registerWebClient(router, deps.services.config);
  registerUnsubscribePage(router, deps.services.config);
  registerRoutes(router, routes, {
    jwt: deps.services.config.jwt,
    rateLimit: callerRateLimit(deps.redis, deps.services.config.rateLimit),
    callerStatus: callerStatusCheck(),
  });

  app.use(httpMetrics('portal-api'));
  // Load balancer probes: unauthenticated, no rate limit, from the process's own connection states.
  app.use(
    probeRoutes(() => ({
      mongodb: databaseConnected(),
      redis: deps.redis.status === 'ready',
      liveEvents: deps.liveHub.ready,
    })),
  );
  app.use(requestContext(log));
  // Host portals on other origins that embed the web client's element (WEB_CLIENT_ALLOWED_ORIGINS only).
  const allowedOrigins = new Set(deps.services.config.webClient.allowedOrigins);
  if (allowedOrigins.size > 0) {
    app.use(
      cors({
        origin: (ctx) => (allowedOrigins.has(ctx.get('origin')) ? ctx.get('origin') : ''),
        allowHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID'],
        exposeHeaders: ['Retry-After'],
        maxAge: 600,
      }),
    );
  }
  app.use(errorMiddleware());
  // The dashboard parses its own bodies (sign-in form, bull-board's API).
  app.use(queueDashboard(operatedQueues(deps), deps.services.config.jwt));
  app.use(customerImportBodyParser(deps.services.config.customerImport, deps.services.config.jwt));
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '1mb', encoding: 'utf-8' }));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
