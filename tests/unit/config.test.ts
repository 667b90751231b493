import { ConfigError, loadConfig } from '../../runtime/config';

const valid = {
  PORTAL_JWT_SECRET: 'x'.repeat(32),
  PORTAL_JWT_ISSUER: 'host',
  PORTAL_JWT_AUDIENCE: 'chat',
  SYNAPSE_URL: 'http://127.0.0.1:8008',
  MATRIX_DOMAIN: 'chat.example.org',
  MONGODB_URI: 'mongodb://127.0.0.1:27017/chat',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

function errorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  test('a complete environment gives one typed object with defaults', () => {
    const config = loadConfig(valid);
    expect(config.jwt).toEqual({ algorithm: 'HS256', key: valid.PORTAL_JWT_SECRET, issuer: 'host', audience: 'chat' });
    expect(config.portalApi.port).toBe(8080);
    expect(config.appservice.url).toBe('http://127.0.0.1:9000');
    expect(config.synapse.publicUrl).toBe('http://127.0.0.1:8008');
    // The web client's development sign-in is off unless asked for; framing only by this origin.
    expect(config.webClient).toEqual({ devLogin: false, frameAncestors: "'self'", allowedOrigins: [] });
  });

  test.each([
    ['PORTAL_JWT_SECRET', { PORTAL_JWT_SECRET: undefined }, /PORTAL_JWT_SECRET: required when PORTAL_JWT_ALGORITHM is HS256/],
    ['PORTAL_JWT_SECRET', { PORTAL_JWT_SECRET: 'short' }, /PORTAL_JWT_SECRET: must be at least 32 characters/],
    ['PORTAL_JWT_PUBLIC_KEY', { PORTAL_JWT_ALGORITHM: 'RS256' }, /PORTAL_JWT_PUBLIC_KEY: required/],
    ['PORTAL_JWT_ALGORITHM', { PORTAL_JWT_ALGORITHM: 'none' }, /PORTAL_JWT_ALGORITHM/],
    ['PORTAL_JWT_ISSUER', { PORTAL_JWT_ISSUER: undefined }, /PORTAL_JWT_ISSUER: is required/],
    ['PORTAL_JWT_AUDIENCE', { PORTAL_JWT_AUDIENCE: undefined }, /PORTAL_JWT_AUDIENCE: is required/],
    ['PORTAL_API_PORT', { PORTAL_API_PORT: 'eighty' }, /PORTAL_API_PORT/],
    ['MONGODB_URI', { MONGODB_URI: 'postgres://x' }, /MONGODB_URI: a mongodb/],
    ['SMTP_URL', { SMTP_URL: 'http://mail.example.org', EMAIL_LINK_SECRET: 'y'.repeat(32) }, /SMTP_URL: an smtp:\/\/ or smtps:\/\/ URL/],
    ['SMTP_URL', { SMTP_URL: 'mail.example.org:587', EMAIL_LINK_SECRET: 'y'.repeat(32) }, /SMTP_URL: an smtp/],
    ['EMAIL_LINK_SECRET', { SMTP_URL: 'smtp://mail.example.org:587' }, /EMAIL_LINK_SECRET: required with SMTP_URL/],
    ['SMTP_DELIVERY_LOOKUP_URL', { SMTP_DELIVERY_LOOKUP_URL: 'http://127.0.0.1:8025' }, /SMTP_DELIVERY_LOOKUP_URL: a mailpit\+http:\/\/ or mailpit\+https:\/\/ URL/],
    ['SMTP_DELIVERY_LOOKUP_URL', { SMTP_DELIVERY_LOOKUP_URL: 'mailpit+http://' }, /SMTP_DELIVERY_LOOKUP_URL: a mailpit/],
    ['SMTP_DELIVERY_LOOKUP_SETTLE_SECONDS', { SMTP_DELIVERY_LOOKUP_SETTLE_SECONDS: '-1' }, /SMTP_DELIVERY_LOOKUP_SETTLE_SECONDS/],
    ['EMAIL_DELAY_UNIT_MS', { EMAIL_DELAY_UNIT_MS: '0' }, /EMAIL_DELAY_UNIT_MS/],
    ['REDIS_URL', { REDIS_URL: undefined }, /REDIS_URL: is required/],
    ['SYNAPSE_URL', { SYNAPSE_URL: 'not a url' }, /SYNAPSE_URL/],
    ['MATRIX_DOMAIN', { MATRIX_DOMAIN: 'Chat.Example.org' }, /MATRIX_DOMAIN: a lowercase server name/],
    ['WEB_CLIENT_DEV_LOGIN', { WEB_CLIENT_DEV_LOGIN: 'true', NODE_ENV: 'production' }, /WEB_CLIENT_DEV_LOGIN: must not be true when NODE_ENV is production/],
    ['WEB_CLIENT_FRAME_ANCESTORS', { WEB_CLIENT_FRAME_ANCESTORS: "* 'unsafe-inline'" }, /WEB_CLIENT_FRAME_ANCESTORS: origins such as/],
    ['WEB_CLIENT_ALLOWED_ORIGINS', { WEB_CLIENT_ALLOWED_ORIGINS: '*' }, /WEB_CLIENT_ALLOWED_ORIGINS: origins such as/],
  ])('a bad %s stops the start with a message naming it', (key, change, message) => {
    const err = errorOf({ ...valid, ...change });
    expect(err.key).toBe(key);
    expect(err.message).toMatch(message);
  });
});
