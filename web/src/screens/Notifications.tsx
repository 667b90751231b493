import { useEffect, useState } from 'preact/hooks';
import { useClient } from '../context';
import { errorSentence } from '../errors';
import { shortTime } from '../names';
import { unwrap } from '../api/client';
import type { AdminNotification } from '../chatStore';

/** An administrator's in-app notifications (new support messages), with "mark all read". */
export function Notifications() {
  const { store, router } = useClient();
  const nid = store.session.networkId;
  const [items, setItems] = useState<AdminNotification[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async () => {
    try {
      const page = await unwrap(store.api.GET('/v1/networks/{nid}/notifications', { params: { path: { nid }, query: { limit: 50 } } }));
      setItems(page.notifications);
      store.notificationsUnread.value = page.unreadCount;
    } catch (err) {
      setError(errorSentence(err));
    }
  };
  useEffect(() => void load(), []);

  const markAll = async () => {
    try {
      const result = await unwrap(store.api.POST('/v1/networks/{nid}/notifications/read', { params: { path: { nid } }, body: { all: true } }));
      store.notificationsUnread.value = result.unreadCount;
      await load();
    } catch (err) {
      setError(errorSentence(err));
    }
  };

  return (
    <section class="cwc-notifications" aria-labelledby="notifications-title">
      <header class="cwc-list-head">
        <h2 id="notifications-title">Notifications</h2>
        <button type="button" class="cwc-button" onClick={() => void markAll()} disabled={!store.notificationsUnread.value}>
          Mark all read
        </button>
      </header>
      <p class="cwc-error cwc-pad" role="alert">
        {error}
      </p>
      {items && !items.length && <p class="cwc-muted cwc-pad">No notifications.</p>}
      <ul class="cwc-chats">
        {items?.map((n) => (
          <li key={n.id}>
            <a class={`cwc-chat-item${n.read ? '' : ' cwc-unread'}`} href={router.href(`/chats/${n.chatId}`)} onClick={(e) => (e.preventDefault(), router.navigate(`/chats/${n.chatId}`))}>
              <span class="cwc-chat-text">
                <span class="cwc-chat-title">
                  <span class="cwc-chat-name">
                    {n.type === 'report' ? (n.customerName ? `New report about ${n.customerName}` : 'New report') : `New message from ${n.customerName ?? 'a customer'}`}
                  </span>
                  <time dateTime={n.at}>{shortTime(n.at)}</time>
                </span>
                <span class="cwc-chat-preview">{n.preview ?? ''}</span>
              </span>
              {!n.read && <span class="cwc-dot" aria-label="unread" />}
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}
