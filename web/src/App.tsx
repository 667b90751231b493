import { useEffect, useState } from 'preact/hooks';
import { useClient } from './context';
import { errorSentence } from './errors';
import { parseRoute } from './router';
import { ConnectionBanner } from './components/ConnectionBanner';
import { ChatList } from './screens/ChatList';
import { Conversation } from './screens/Conversation';
import { CommunityPage } from './screens/CommunityPage';
import { StartChat } from './screens/StartChat';
import { Notifications } from './screens/Notifications';
import { ChatSettings } from './screens/ChatSettings';

function useWide(root: HTMLElement | null): boolean {
  const [wide, setWide] = useState(true);
  useEffect(() => {
    if (!root) return;
    const observer = new ResizeObserver(([entry]) => setWide((entry?.contentRect.width ?? 0) >= 760));
    observer.observe(root);
    return () => observer.disconnect();
  }, [root]);
  return wide;
}

/** The client's frame: sections (Chats, Community; for administrators Notifications, Settings) and the screen. */
export function App() {
  const { store, router } = useClient();
  const [frame, setFrame] = useState<HTMLDivElement | null>(null);
  const wide = useWide(frame);
  const route = parseRoute(router.path.value);
  const features = store.features.value;
  const admin = store.session.role === 'admin';
  const chatsOn = features?.chats === true;
  const communityOn = !admin && chatsOn && features?.communityVisibility !== 'administrators';

  const link = (path: string, label: string, current: boolean, badge?: number | null) => (
    <a
      class={`cwc-nav-link${current ? ' cwc-active' : ''}`}
      href={router.href(path)}
      aria-current={current ? 'page' : undefined}
      onClick={(e) => (e.preventDefault(), router.navigate(path))}
    >
      {label}
      {badge ? (
        <span class="cwc-badge" aria-label={`${badge} unread`}>
          {badge}
        </span>
      ) : null}
    </a>
  );

  let screen;
  if (!features) {
    screen = store.featuresError.value ? (
      <p class="cwc-error cwc-pad" role="alert">
        {errorSentence(store.featuresError.value)}
      </p>
    ) : (
      <p class="cwc-muted cwc-pad">Loading…</p>
    );
  } else if (admin && route.screen === 'settings') {
    screen = <ChatSettings />;
  } else if (!chatsOn) {
    screen = (
      <div class="cwc-pad cwc-empty" role="status">
        <h2>Chats are turned off</h2>
        <p>Chats are turned off for this network. Nothing has been deleted; conversations come back when chats are turned on again.</p>
        {admin && (
          <p>
            <a href={router.href('/settings')} onClick={(e) => (e.preventDefault(), router.navigate('/settings'))}>
              Open chat settings
            </a>
          </p>
        )}
      </div>
    );
  } else if (route.screen === 'community' && communityOn) {
    screen = <CommunityPage />;
  } else if (route.screen === 'message' || route.screen === 'customer') {
    screen = <StartChat route={route} />;
  } else if (route.screen === 'notifications' && admin) {
    screen = <Notifications />;
  } else if (route.screen === 'conversation' && route.chatId) {
    // One tree at both widths (the list beside it only when wide): crossing the breakpoint (a phone
    // turned, a window resized) keeps the conversation mounted, with its draft, scroll and focus.
    screen = (
      <div class={wide ? 'cwc-split' : 'cwc-single'}>
        {wide ? <ChatList activeChatId={route.chatId} /> : null}
        <Conversation chatId={route.chatId} showBack={!wide} />
      </div>
    );
  } else {
    screen = (
      <div class={wide ? 'cwc-split' : 'cwc-single'}>
        <ChatList />
        {wide ? (
          <div class="cwc-placeholder">
            <p class="cwc-muted">Choose a conversation.</p>
          </div>
        ) : null}
      </div>
    );
  }

  const inChats = route.screen === 'chats' || route.screen === 'conversation';
  return (
    <div class={`cwc-app${wide ? ' cwc-wide' : ' cwc-narrow'}`} ref={setFrame}>
      <ConnectionBanner />
      <nav class="cwc-nav" aria-label="Chat sections">
        {chatsOn && link('/chats', admin ? 'Support inbox' : 'Chats', inChats)}
        {communityOn && link('/community', 'Community', route.screen === 'community')}
        {admin && chatsOn && link('/notifications', 'Notifications', route.screen === 'notifications', store.notificationsUnread.value)}
        {admin && link('/settings', 'Settings', route.screen === 'settings')}
      </nav>
      <div class="cwc-screen">{screen}</div>
    </div>
  );
}
