import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { EmailDigestModel, notificationSettingsId } from '../../store';
import { startMailpit, type MailpitHandle } from '../../scripts/stack/mailpitServer';
import { startServices, eventually, type TestServices } from '../support/harness';
import { mailMessage, mailTo } from '../support/mailpit';
import { createNetwork, type NetworkFixture } from './networkFixture';

/**
 * The mail server is down when an email is due: the window waits (retried with backoff, the error
 * kept), health shows SMTP down, and once the server is back exactly one email arrives. This file
 * runs its own Mailpit so that stopping it disturbs no other test.
 */
describe('email notifications while the SMTP server is down', () => {
  let mail: MailpitHandle;
  let s: TestServices;
  let n: NetworkFixture;

  beforeAll(async () => {
    mail = await startMailpit({ dataDir: mkdtempSync(join(process.env.TEST_DATA_DIR ?? '/tmp', 'smtp-outage-')) });
    s = await startServices({ SMTP_URL: mail.smtpUrl, SMTP_DELIVERY_LOOKUP_URL: `mailpit+${mail.webUrl}`, EMAIL_DELAY_UNIT_MS: '300' });
    n = await createNetwork(s, { customers: { ann: { displayName: 'Ann Arnesen' }, ben: { displayName: 'Ben Berg' } } });
    await s.api('PUT', `/v1/networks/${n.net}/customers/ann`, n.service, { kind: 'member', displayName: 'Ann Arnesen', email: `ann.${n.net}@example.test` });
    await s.api('PATCH', '/v1/me/notification-settings', n.customer('ann'), { email: { delayMinutes: 1 } });
  });
  afterAll(async () => {
    await s?.stop();
    await mail?.stop();
  });

  test('retried with backoff while SMTP is down, health says so, one email once it is back', async () => {
    const chat = (await s.api('POST', '/v1/chats', n.customer('ben'), { userId: 'ann' })).body;
    const personKey = notificationSettingsId(n.net, 'customer', 'ann');
    await mail.restart(0, {
      whileDown: async () => {
        expect((await s.api('POST', `/v1/chats/${chat.id}/messages`, n.customer('ben'), { txnId: 'outage-1', body: 'while the mail server is down' })).status).toBe(201);
        const waiting = await eventually(
          'two failed attempts',
          async () => {
            const w = await EmailDigestModel.findOne({ personKey }).lean();
            return w && w.attempts >= 1 && w.lastError && w.status === 'closing' ? w : null;
          },
          30000,
        );
        expect(waiting.lastError).toMatch(/ECONNREFUSED|connect/i);
        const health = await s.api('GET', '/v1/ops/health', s.token('operator', 'ops'));
        expect(health.status).toBe(503);
        expect(health.body.components.smtp.status).toBe('down');
      },
    });
    const sent = await eventually(
      'the email after the server came back',
      async () => {
        const w = await EmailDigestModel.findOne({ personKey }).lean();
        return w?.status === 'sent' ? w : null;
      },
      30000,
    );
    expect(sent.listedMessages).toBe(1);
    const mails = await mailTo(`ann.${n.net}@example.test`, mail.webUrl!);
    expect(mails).toHaveLength(1);
    expect((await mailMessage(mails[0]!.ID, mail.webUrl!)).Text).toContain('Ben Berg: while the mail server is down');
    expect((await s.api('GET', '/v1/ops/health', s.token('operator', 'ops'))).body.components.smtp.status).toBe('up');
  });
});
