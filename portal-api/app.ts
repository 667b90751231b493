import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { type Logger } from '../runtime';
import { errorMiddleware } from './errorMiddleware';
import { requestContext, type PortalState } from './requestContext';
import { openApiDocument, registerRoutes, type AnyRouteSpec } from './routeTable';
import type { PortalDeps } from './portalDeps';
import { hostSyncRoutes } from './routes/hostSyncRoutes';
import { chatRoutes } from './routes/chatRoutes';
import { meRoutes } from './routes/meRoutes';
import { notificationRoutes } from './routes/notificationRoutes';
import { registerUnsubscribePage, unsubscribeOpenApi } from './unsubscribePage';
import { opsRoutes } from './routes/opsRoutes';
import { communityRoutes } from './routes/communityRoutes';
import { adminRoutes } from './routes/adminRoutes';
import { callerRateLimit } from './rateLimit';
import { callerStatusCheck } from './callerStatus';
import { registerDocsPage } from './docsPage';
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
    ...notificationRoutes(deps),
    ...opsRoutes(deps),
    ...customerImportRoutes(deps),
    ...customerDeprovisionRoutes(deps),
    ...adminMembershipRoutes(deps),
    ...jobRoutes(deps),
    ...queueRoutes(deps),
  ];
}

/** The portal API as a Koa app (no listening; start.ts does that). */
export function createPortalApp(deps: PortalDeps, log: Logger): Koa<PortalState> {
  const app = new Koa<PortalState>();
  app.proxy = false;
  const routes = allRoutes(deps);
  const router = new Router();
  const openapi = openApiDocument(routes, { title: 'Coworking chat portal API', version: '1' });
  Object.assign(openapi.paths, unsubscribeOpenApi());
  router.get('/v1/openapi.json', (ctx) => {
    ctx.body = openapi;
  });
  registerDocsPage(router);
  registerUnsubscribePage(router, deps.services.config);
  registerRoutes(router, routes, {
    jwt: deps.services.config.jwt,
    rateLimit: callerRateLimit(deps.redis, deps.services.config.rateLimit),
    callerStatus: callerStatusCheck(),
  });

  app.use(requestContext(log));
  app.use(errorMiddleware());
  // The dashboard parses its own bodies (sign-in form, bull-board's API).
  app.use(queueDashboard(operatedQueues(deps), deps.services.config.jwt));
  app.use(customerImportBodyParser(deps.services.config.customerImport, deps.services.config.jwt));
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '1mb', encoding: 'utf-8' }));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
