import { createRootLogger } from '../../runtime/logger';
import { startNotificationDelivery, type NotificationDeliveryHandle } from '../../provisioning/jobs/notificationDelivery';
import { createWorkerConnection } from '../../provisioning/redisConnection';
import { testConfig, uniqueId } from '../support/harness';
import { startWebhookReceiver, untilWebhooksQuiet, type WebhookReceiver } from '../support/webhooks';
import { connectDatabase, disconnectDatabase, WebhookDeliveryModel, NetworkModel } from '../../store';

/**
 * The relay that moves pending webhook deliveries from MongoDB into the queue: a burst of
 * deliveries ends with every one marked delivered and sent once, and a delivery a stopped relay had
 * marked but not queued is sent after the next start.
 */
describe('webhook relay', () => {
  const config = testConfig();
  const connection = createWorkerConnection(config.redisUrl);
  const log = createRootLogger('silent', 'test');
  let delivery: NotificationDeliveryHandle | undefined;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    await connectDatabase(config.mongodbUri);
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await delivery?.stop();
    connection.disconnect();
    await receiver?.close();
    await disconnectDatabase();
  });

  async function networkWithWebhook(): Promise<string> {
    const net = uniqueId('net');
    await NetworkModel.create({ _id: net, name: 'Flex', notifications: { webhookUrl: receiver.url, webhookSecret: 's'.repeat(20) } });
    return net;
  }
  const payload = (net: string, messageId: string) => JSON.stringify({ type: 'support_message', networkId: net, message: { id: messageId } });

  test('a burst of deliveries: each is sent once and ends marked delivered', async () => {
    const net = await networkWithWebhook();
    const ids = Array.from({ length: 200 }, (_, i) => `$burst-${i}-${net}`);
    await WebhookDeliveryModel.insertMany(ids.map((id, i) => ({ _id: `wh-${i}-${net}`, networkId: net, payloadJson: payload(net, id) })));
    delivery = await startNotificationDelivery(connection, log, { allowPrivateAddresses: true });
    // Quiet also means every delivery left "queued": a relay's mark must not undo the job's result.
    await untilWebhooksQuiet(config.redisUrl, net, ids.length, receiver);
    const counts = receiver.successesPerMessage();
    expect(ids.filter((id) => counts[id] !== 1)).toEqual([]);
    const statuses = new Set((await WebhookDeliveryModel.find({ networkId: net }).lean()).map((d) => d.status));
    expect([...statuses]).toEqual(['delivered']);
    await delivery.stop();
    delivery = undefined;
  });

  test('a delivery marked queued by a relay that stopped before queueing it is sent after the next start', async () => {
    const net = await networkWithWebhook();
    const messageId = `$left-queued-${net}`;
    await WebhookDeliveryModel.create({ _id: `wh-left-${net}`, networkId: net, payloadJson: payload(net, messageId), status: 'queued' });
    delivery = await startNotificationDelivery(connection, log, { allowPrivateAddresses: true });
    await untilWebhooksQuiet(config.redisUrl, net, 1, receiver);
    expect(receiver.successesPerMessage()[messageId]).toBe(1);
    expect((await WebhookDeliveryModel.findById(`wh-left-${net}`).lean())?.status).toBe('delivered');
  });
});
