import { signUnsubscribeToken, verifyUnsubscribeToken } from '../../provisioning/unsubscribeLinks';
import { composeDigestEmail, messageText } from '../../provisioning/jobs/digestEmail';

describe('unsubscribe links', () => {
  const secret = 's'.repeat(32);
  const person = 'net-1|customer:alice';

  test('a signed link names its person until it expires', () => {
    const token = signUnsubscribeToken(secret, person, new Date(Date.now() + 60_000));
    const checked = verifyUnsubscribeToken(secret, token);
    expect(checked.ok && checked.claim.personKey).toBe(person);
    expect(verifyUnsubscribeToken(secret, token, new Date(Date.now() + 120_000))).toEqual({ ok: false, reason: 'expired' });
  });

  test('a changed payload, signature or secret is refused', () => {
    const token = signUnsubscribeToken(secret, person, new Date(Date.now() + 60_000));
    const [payload, signature] = token.split('.');
    const otherPayload = Buffer.from(JSON.stringify({ p: 'net-1|customer:bob', e: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
    for (const bad of [`${otherPayload}.${signature}`, `${payload}.${signature!.slice(0, -1)}x`, `${payload}`, `${token}.x`, '', 'a.b']) {
      expect(verifyUnsubscribeToken(secret, bad)).toEqual({ ok: false, reason: 'invalid' });
    }
    expect(verifyUnsubscribeToken('t'.repeat(32), token)).toEqual({ ok: false, reason: 'invalid' });
  });
});

describe('the digest email', () => {
  test('escapes every value in the HTML part and keeps the text part as written', () => {
    const email = composeDigestEmail({
      networkName: 'Flex & <Co>',
      chats: [
        {
          chatId: 'ch_x',
          title: 'Chat with <script>alert(1)</script>',
          link: 'https://web.example/chat/#/chats/ch_x?a=1&b="2"',
          unread: 5,
          messages: [{ senderName: 'Bob "B"', text: '<img src=x onerror=alert(1)>', at: new Date() }],
        },
      ],
      unsubscribeUrl: 'https://api.example/v1/email/unsubscribe?token=a.b',
      settingsHint: 'hint',
    });
    expect(email.subject).toBe('5 new messages in Chat with <script>alert(1)</script> (Flex & <Co>)');
    expect(email.html).not.toMatch(/<script>|<img/);
    expect(email.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(email.html).toContain('href="https://web.example/chat/#/chats/ch_x?a=1&amp;b=&quot;2&quot;"');
    expect(email.text).toContain('Bob "B": <img src=x onerror=alert(1)>');
    expect(email.text).toContain('...and 4 more');
    expect(email.text).toContain('Unsubscribe from these emails: https://api.example/v1/email/unsubscribe?token=a.b');
  });

  test('attachments are named, never linked', () => {
    expect(messageText('m.file', 'contract.pdf')).toBe('[attachment: contract.pdf]');
    expect(messageText('m.image', '')).toBe('[image: attachment]');
    expect(messageText('m.text', 'hi')).toBe('hi');
  });
});
