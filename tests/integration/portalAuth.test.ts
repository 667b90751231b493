import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { createRootLogger } from '../../runtime/logger';
import { startPortalApi, type PortalApiHandle } from '../../portal-api/start';
import { callApi, testConfig, uniqueId } from '../support/harness';

/**
 * Bearer tokens: the algorithm is pinned by configuration, exp is required, iss and aud must
 * match. Every refusal is a plain 401 without internals.
 */

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A token assembled by hand, so tests can build what jsonwebtoken would refuse to sign. */
function handMadeToken(header: Record<string, unknown>, payload: Record<string, unknown>, sign: (input: string) => string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(input)}`;
}

const now = () => Math.floor(Date.now() / 1000);

describe('portal API authentication', () => {
  const config = testConfig();
  const log = createRootLogger('silent', 'test');
  let hs: PortalApiHandle;
  let rs: PortalApiHandle;
  const net = uniqueId('net');
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const claims = () => ({ sub: 'alice', role: 'customer', net, iss: config.jwt.issuer, aud: config.jwt.audience, exp: now() + 600 });
  const hsSign = (secret: string) => (input: string) => createHmac('sha256', secret).update(input).digest('base64url');

  beforeAll(async () => {
    hs = await startPortalApi(config, { log });
    rs = await startPortalApi(testConfig({ PORTAL_JWT_ALGORITHM: 'RS256', PORTAL_JWT_PUBLIC_KEY: publicKey }), { log });
    const service = jwt.sign({ role: 'service', net }, config.jwt.key, {
      algorithm: 'HS256',
      subject: 'host',
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      expiresIn: 600,
    });
    expect((await callApi(hs.url, 'PUT', `/v1/networks/${net}`, service, { name: 'Flex Offices' })).status).toBe(200);
  });
  afterAll(async () => {
    await rs?.stop();
    await hs?.stop();
  });

  const features = (url: string, token?: string) => callApi(url, 'GET', '/v1/me/features', token);

  test('a valid HS256 token is accepted', async () => {
    const res = await features(hs.url, handMadeToken({ alg: 'HS256', typ: 'JWT' }, claims(), hsSign(config.jwt.key)));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ chats: true, communityVisibility: 'network_members' });
  });

  test.each([
    ['no token', () => undefined],
    ['not a JWT', () => 'not-a-token'],
    ['expired', () => handMadeToken({ alg: 'HS256' }, { ...claims(), exp: now() - 60 }, hsSign(config.jwt.key))],
    ['without exp', () => handMadeToken({ alg: 'HS256' }, { ...claims(), exp: undefined }, hsSign(config.jwt.key))],
    ['wrong audience', () => handMadeToken({ alg: 'HS256' }, { ...claims(), aud: 'someone-else' }, hsSign(config.jwt.key))],
    ['wrong issuer', () => handMadeToken({ alg: 'HS256' }, { ...claims(), iss: 'evil.example' }, hsSign(config.jwt.key))],
    ['alg none', () => handMadeToken({ alg: 'none' }, claims(), () => '')],
    ['signed with another secret', () => handMadeToken({ alg: 'HS256' }, claims(), hsSign('x'.repeat(40)))],
    ['HS512 when HS256 is configured', () => handMadeToken({ alg: 'HS512' }, claims(), (i) => createHmac('sha512', config.jwt.key).update(i).digest('base64url'))],
    ['a customer token without a network', () => handMadeToken({ alg: 'HS256' }, { ...claims(), net: undefined }, hsSign(config.jwt.key))],
    ['an unknown role', () => handMadeToken({ alg: 'HS256' }, { ...claims(), role: 'superuser' }, hsSign(config.jwt.key))],
  ])('%s → 401 unauthenticated', async (_name, make) => {
    const res = await features(hs.url, make());
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  test('the expired token is told apart in the message, without internals', async () => {
    const res = await features(hs.url, handMadeToken({ alg: 'HS256' }, { ...claims(), exp: now() - 60 }, hsSign(config.jwt.key)));
    expect(res.body.error.message).toBe('the token has expired');
  });

  describe('with RS256 configured', () => {
    test('a token signed with the private key is accepted', async () => {
      const token = jwt.sign(claims(), privateKey, { algorithm: 'RS256' });
      expect((await features(rs.url, token)).status).toBe(200);
    });

    test('a token signed with the public key as an HMAC secret is refused (algorithm confusion)', async () => {
      const forged = handMadeToken({ alg: 'HS256', typ: 'JWT' }, claims(), hsSign(publicKey));
      const res = await features(rs.url, forged);
      expect(res.status).toBe(401);
    });

    test('alg none and a token from another key pair are refused', async () => {
      expect((await features(rs.url, handMadeToken({ alg: 'none' }, claims(), () => ''))).status).toBe(401);
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      expect((await features(rs.url, jwt.sign(claims(), other, { algorithm: 'RS256' }))).status).toBe(401);
    });
  });
});
