import { createServer, type Server } from 'node:http';
import { createRootLogger } from '../../runtime/logger';
import { startNotificationDelivery, type NotificationDeliveryHandle } from '../../provisioning/jobs/notificationDelivery';
import { createWorkerConnection } from '../../provisioning/redisConnection';
import { eventually, testConfig, uniqueId } from '../support/harness';
import { connectDatabase, disconnectDatabase, WebhookDeliveryModel, NetworkModel } from '../../store';

/**
 * With the default configuration a webhook aimed at a private address (here: loopback) is never
 * called: the delivery fails at once, for good, with the reason, instead of probing the network.
 */
describe('webhook destinations', () => {
  const config = testConfig();
  const connection = createWorkerConnection(config.redisUrl);
  let delivery: NotificationDeliveryHandle;
  let receiver: Server;
  let hits = 0;

  beforeAll(async () => {
    await connectDatabase(config.mongodbUri);
    receiver = createServer((_req, res) => {
      hits++;
      res.writeHead(200).end();
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    delivery = await startNotificationDelivery(connection, createRootLogger('silent', 'test'), { allowPrivateAddresses: false });
  });
  afterAll(async () => {
    await delivery?.stop();
    connection.disconnect();
    await new Promise((r) => receiver?.close(r));
    await disconnectDatabase();
  });

  test('a loopback webhook URL is refused without a request and without retries', async () => {
    const net = uniqueId('net');
    const port = (receiver.address() as { port: number }).port;
    await NetworkModel.create({ _id: net, name: 'Flex', notifications: { webhookUrl: `http://127.0.0.1:${port}/x`, webhookSecret: 's'.repeat(20) } });
    const id = uniqueId('wh');
    await WebhookDeliveryModel.create({ _id: id, networkId: net, payloadJson: '{"type":"support_message"}' });
    const failed = await eventually('the delivery to fail', async () => {
      const d = await WebhookDeliveryModel.findById(id).lean();
      return d?.status === 'failed' ? d : null;
    });
    expect(failed.lastError).toMatch(/private address/);
    expect(failed.attempts).toBe(1);
    expect(hits).toBe(0);
  });
});
