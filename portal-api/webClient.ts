import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type Router from '@koa/router';
import { z } from 'zod';
import { NotFoundError, type Config } from '../runtime';
import { mintToken, ROLES } from './auth';
import { hostIdSchema } from './routeTable';

/**
 * The web client (web/, built by `npm run build:web` into web/dist) served by the portal API at
 * /chat/: the standalone and iframe page, the `<coworking-chat>` element script and its assets,
 * under a strict Content-Security-Policy (scripts, styles and connections from this origin only).
 * Only files the build wrote are served (listed once at start), so no path reaches outside dist.
 */
const DIST_DIR = join(__dirname, '..', 'web', 'dist');
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

export function webClientCsp(frameAncestors: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // Attachment previews are fetched with the bearer token and shown from blob: URLs.
    "img-src 'self' blob: data:",
    "connect-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

const devTokenQuery = z.object({ role: z.enum(['customer', 'admin']), sub: hostIdSchema, net: hostIdSchema });

export function registerWebClient(router: Router, config: Config): void {
  const built = existsSync(join(DIST_DIR, 'index.html'));
  const page = built ? readFileSync(join(DIST_DIR, 'index.html'), 'utf8') : null;
  const assets = new Set(built && existsSync(join(DIST_DIR, 'assets')) ? readdirSync(join(DIST_DIR, 'assets')) : []);
  const csp = webClientCsp(config.webClient.frameAncestors);

  const servePage = (ctx: import('koa').Context) => {
    ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cache-Control', 'no-cache');
    if (!page) {
      ctx.status = 503;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'The web client is not built: run npm run build:web (scripts/setup.sh does).\n';
      return;
    }
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page;
  };
  // The router matches /chat and /chat/ alike; relative asset URLs need the slash.
  router.get('/chat/', (ctx) => (ctx.path === '/chat' ? ctx.redirect('/chat/') : servePage(ctx)));
  // The iframe route: the same page; it takes its token from the parent window (postMessage).
  router.get('/chat/embed', servePage);

  router.get('/chat/assets/:file', (ctx) => {
    const file = ctx.params.file ?? '';
    const type = TYPES[extname(file)];
    if (!assets.has(file) || !type) throw new NotFoundError('file');
    ctx.type = type;
    ctx.set('X-Content-Type-Options', 'nosniff');
    // The element's script keeps its name so host pages can link it; hashed files never change.
    ctx.set('Cache-Control', /-[A-Za-z0-9_-]{8}\.\w+$/.test(file) ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
    // Host portals on other origins load the element's script and stylesheet.
    ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
    ctx.body = createReadStream(join(DIST_DIR, 'assets', file));
  });

  // Development sign-in for the demo and the browser tests: a token for anyone, so never in
  // production (the configuration refuses WEB_CLIENT_DEV_LOGIN=true with NODE_ENV=production).
  router.get('/chat/dev-token', (ctx) => {
    if (!config.webClient.devLogin || !config.jwt.algorithm.startsWith('HS')) throw new NotFoundError('route');
    const parsed = devTokenQuery.safeParse(ctx.query);
    if (!parsed.success) throw new NotFoundError('person');
    const { role, sub, net } = parsed.data;
    if (!ROLES.includes(role)) throw new NotFoundError('person');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      token: mintToken({ secretOrPrivateKey: config.jwt.key, algorithm: config.jwt.algorithm, issuer: config.jwt.issuer, audience: config.jwt.audience }, { role, sub, net }, 3600),
      expiresIn: 3600,
    };
  });
}
