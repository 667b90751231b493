import { useState } from 'preact/hooks';
import { useClient } from '../context';
import { errorSentence } from '../errors';
import { chatTitle, shortTime } from '../names';
import { Avatar } from '../components/Avatar';
import { unwrap } from '../api/client';
import { NewChatDialog } from './NewChatDialog';

/**
 * The chat list: a customer's conversations, or the network's support inbox for an administrator;
 * newest activity first, with the server's unread counts.
 */
export function ChatList(props: { activeChatId?: string }) {
  const { store, router } = useClient();
  const admin = store.session.role === 'admin';
  const [newChat, setNewChat] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const chats = store.chats.value;
  const heading = admin ? 'Support inbox' : 'Chats';

  const contactSupport = async () => {
    try {
      const chat = await unwrap(store.api.POST('/v1/chats/support', {}));
      await store.loadChats();
      router.navigate(`/chats/${chat.id}`);
    } catch (err) {
      setError(errorSentence(err));
    }
  };

  return (
    <section class="cwc-chat-list" aria-labelledby="chat-list-title">
      <header class="cwc-list-head">
        <h2 id="chat-list-title">{heading}</h2>
        {admin ? (
          <button type="button" class="cwc-button cwc-primary" onClick={() => setNewChat(true)}>
            New chat
          </button>
        ) : (
          <button type="button" class="cwc-button" onClick={() => void contactSupport()}>
            Contact support
          </button>
        )}
      </header>
      {error && (
        <p class="cwc-error cwc-pad" role="alert">
          {error}
        </p>
      )}
      {store.chatsError.value != null && (
        <p class="cwc-error cwc-pad" role="alert">
          {errorSentence(store.chatsError.value)}
        </p>
      )}
      {!store.chatsLoaded.value && <p class="cwc-muted cwc-pad">Loading…</p>}
      {store.chatsLoaded.value && !chats.length && !store.chatsError.value && (
        <p class="cwc-muted cwc-pad">
          {admin ? 'No support conversations yet.' : 'No conversations yet. Find someone on the Community page, or contact support.'}
        </p>
      )}
      <ul class="cwc-chats">
        {chats.map((chat) => {
          const title = chatTitle(store, chat);
          const active = chat.id === props.activeChatId;
          return (
            <li key={chat.id}>
              <a
                class={`cwc-chat-item${active ? ' cwc-active' : ''}${chat.unreadCount ? ' cwc-unread' : ''}`}
                href={router.href(`/chats/${chat.id}`)}
                aria-current={active ? 'page' : undefined}
                onClick={(e) => (e.preventDefault(), router.navigate(`/chats/${chat.id}`))}
              >
                <Avatar name={title} />
                <span class="cwc-chat-text">
                  <span class="cwc-chat-title">
                    <span class="cwc-chat-name">{title}</span>
                    <time dateTime={chat.lastActivityAt}>{shortTime(chat.lastActivityAt)}</time>
                  </span>
                  <span class="cwc-chat-preview">{chat.lastMessage?.body ?? 'No messages yet'}</span>
                </span>
                {chat.unreadCount > 0 && (
                  <span class="cwc-badge" aria-label={`${chat.unreadCount} unread`}>
                    {chat.unreadCount > 99 ? '99+' : chat.unreadCount}
                  </span>
                )}
              </a>
            </li>
          );
        })}
      </ul>
      {store.chatsCursor.value && (
        <div class="cwc-pad">
          <button type="button" class="cwc-button cwc-small" onClick={() => void store.loadChats(true)}>
            Show more
          </button>
        </div>
      )}
      {newChat && <NewChatDialog onClose={() => setNewChat(false)} />}
    </section>
  );
}
