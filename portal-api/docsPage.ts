import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import type Router from '@koa/router';

/**
 * The rendered API documentation at /v1/docs: Swagger UI served from the swagger-ui-dist package
 * (no CDN: installations may have no internet), reading /v1/openapi.json.
 */
const SWAGGER_UI_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'docs-init.js': 'text/javascript; charset=utf-8',
};

// Inline scripts would need a looser Content-Security-Policy; the initializer is served as a file.
const INIT_SCRIPT = `window.onload = function () {
  window.ui = SwaggerUIBundle({ url: '/v1/openapi.json', dom_id: '#docs', deepLinking: true });
};
`;

const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Coworking chat portal API</title>
    <link rel="stylesheet" href="/v1/docs/assets/swagger-ui.css">
  </head>
  <body>
    <div id="docs"></div>
    <script src="/v1/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/v1/docs/assets/docs-init.js"></script>
  </body>
</html>
`;

export function registerDocsPage(router: Router): void {
  router.get('/v1/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
    ctx.body = PAGE;
  });
  router.get('/v1/docs/assets/:file', (ctx) => {
    const file = ctx.params.file ?? '';
    const type = ASSETS[file];
    if (!type) return;
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = file === 'docs-init.js' ? INIT_SCRIPT : createReadStream(join(SWAGGER_UI_DIR, file));
  });
}
