import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../runtime';
import { verifyUnsubscribeToken } from '../provisioning';
import { NotificationSettingsModel } from '../store';

/**
 * The one-click unsubscribe of notification emails, without logging in (RFC 8058): mail clients
 * POST `List-Unsubscribe=One-Click` to the link of the `List-Unsubscribe` header; a person who
 * opens the link in a browser gets a page with one button that POSTs the same. A GET never
 * changes anything (link scanners fetch links). A link that was changed or has expired shows a
 * page saying so and changes nothing.
 */

const PATH = '/v1/email/unsubscribe';

export function registerUnsubscribePage(router: Router, config: Config): void {
  const secret = config.email.linkSecret;
  const check = (ctx: Context) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    if (!secret || token.length === 0 || token.length > 2048) return { ok: false as const, reason: 'invalid' as const, token };
    return { ...verifyUnsubscribeToken(secret, token), token };
  };
  router.get(PATH, async (ctx) => {
    const result = check(ctx);
    if (!result.ok) return refuse(ctx, result.reason);
    page(
      ctx,
      200,
      'Unsubscribe from notification emails?',
      `<p>You will no longer get emails about unread chat messages. You can switch them on again in your notification settings.</p>
<form method="post" action="${PATH}?token=${encodeURIComponent(result.token)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
    );
  });
  router.post(PATH, async (ctx) => {
    const result = check(ctx);
    if (!result.ok) return refuse(ctx, result.reason);
    await NotificationSettingsModel.updateOne({ _id: result.claim.personKey }, { $set: { emailEnabled: false } });
    page(ctx, 200, 'You are unsubscribed', '<p>You will no longer get emails about unread chat messages. You can switch them on again in your notification settings.</p>');
  });
}

function refuse(ctx: Context, reason: 'invalid' | 'expired'): void {
  page(
    ctx,
    400,
    reason === 'expired' ? 'This unsubscribe link has expired' : 'This unsubscribe link is not valid',
    `<p>${reason === 'expired' ? 'The link is too old to be used.' : 'The link was changed or cut short.'} Nothing was changed. Use the link of a recent email, or switch emails off in your notification settings.</p>`,
  );
}

function page(ctx: Context, status: number, title: string, body: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:480px;margin:48px auto;padding:0 16px"><h1 style="font-size:20px">${title}</h1>${body}</body></html>`;
}

/** The two routes in the OpenAPI document (they answer HTML pages, not JSON). */
export function unsubscribeOpenApi(): Record<string, unknown> {
  const token = { name: 'token', in: 'query', required: true, schema: { type: 'string' }, description: 'the signed token of the email link' };
  return {
    [PATH]: {
      get: { summary: 'Page confirming the unsubscribe (no login; changes nothing)', security: [], parameters: [token], responses: { 200: { description: 'HTML page' }, 400: { description: 'HTML page: link changed or expired' } } },
      post: {
        summary: 'One-click unsubscribe (RFC 8058 List-Unsubscribe-Post; no login): switches email notifications off for the person of the link',
        security: [],
        parameters: [token],
        responses: { 200: { description: 'HTML page' }, 400: { description: 'HTML page: link changed or expired, nothing changed' } },
      },
    },
  };
}
