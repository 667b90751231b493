import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetch } from 'undici';
import { isPrivateAddress, privateDestinationRefusal, webhookDispatcher } from '../../provisioning/jobs/webhookDestination';

/** Webhook URLs are chosen by network administrators: they must not reach the installation's own networks. */
describe('webhook destinations', () => {
  test.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.5',
    '192.168.1.10',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fd12:3456::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '198.18.0.1',
    '198.19.255.254',
    '64:ff9b::7f00:1', // NAT64 of 127.0.0.1
    '2002:7f00:1::1', // 6to4 of 127.0.0.1
    '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
    '192.0.2.1',
    '255.255.255.255',
    'not an address',
  ])('%s is private', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  test.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });
});

describe('webhook deliveries connect only to the address that was checked', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a host name that resolves to a loopback address is refused when connecting', async () => {
    const dispatcher = webhookDispatcher({ allowPrivateAddresses: false });
    try {
      const err = await fetch(`http://localhost:${port}/hook`, { dispatcher }).then(() => null, (e: unknown) => e);
      expect(privateDestinationRefusal(err)?.message).toMatch(/^the webhook host localhost is a private address \((127\.0\.0\.1|::1)\)$/);
    } finally {
      await dispatcher.close();
    }
  });

  test('the same request goes through when the operator allows private receivers (the control)', async () => {
    const dispatcher = webhookDispatcher({ allowPrivateAddresses: true });
    try {
      const res = await fetch(`http://localhost:${port}/hook`, { dispatcher });
      expect(await res.text()).toBe('ok');
    } finally {
      await dispatcher.close();
    }
  });
});
