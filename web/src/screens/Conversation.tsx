import { Icon } from '../components/Icon';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { useClient } from '../context';
import { errorSentence } from '../errors';
import { chatTitle } from '../names';
import { Composer } from '../components/Composer';
import { MessageItem } from '../components/MessageItem';
import type { Message } from '../chatStore';

/** Most message nodes kept in the page: older ones leave the DOM as newer ones arrive (B9). */
export const MAX_RENDERED_MESSAGES = 150;
const WINDOW_STEP = 50;

/** A conversation: history (older pages on scrolling up), live arrival, typing, "seen", the composer. */
export function Conversation(props: { chatId: string; showBack: boolean }) {
  const { store, router } = useClient();
  const { chatId } = props;
  const state = store.conversations.value[chatId];
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [windowEnd, setWindowEnd] = useState<number | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const anchor = useRef<{ id: string; top: number } | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    stickToBottom.current = true;
    setWindowEnd(null);
    void store.openConversation(chatId);
    heading.current?.focus();
  }, [chatId]);

  const messages = state?.messages ?? [];
  // A window of at most MAX_RENDERED_MESSAGES: the newest ones unless the person scrolled back.
  const end = windowEnd === null ? messages.length : Math.min(windowEnd, messages.length);
  const start = Math.max(0, end - MAX_RENDERED_MESSAGES);
  const shown = messages.slice(start, end);
  const hasOlder = start > 0 || Boolean(state?.nextCursor);

  const anchorOn = (m: Message | undefined) => {
    const el = m && scroller.current?.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(m.id)}"]`);
    anchor.current = m && el ? { id: m.id, top: el.getBoundingClientRect().top } : null;
    stickToBottom.current = false;
  };

  const loadOlder = async () => {
    anchorOn(shown[0]);
    if (start > 0) {
      // Older messages are loaded but not shown: move the window up.
      setWindowEnd(Math.max(Math.min(MAX_RENDERED_MESSAGES, messages.length), end - WINDOW_STEP));
      return;
    }
    const before = messages.length;
    await store.loadOlder(chatId);
    const after = store.conversations.value[chatId]?.messages.length ?? before;
    const next = Math.min(end + (after - before), MAX_RENDERED_MESSAGES);
    setWindowEnd(next >= after ? null : next);
  };

  // Keep the message that was on top where it was when older ones are added above it.
  useLayoutEffect(() => {
    const box = scroller.current;
    if (!box) return;
    if (stickToBottom.current) {
      box.scrollTop = box.scrollHeight;
    } else if (anchor.current) {
      const el = box.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(anchor.current.id)}"]`);
      if (el) box.scrollTop += el.getBoundingClientRect().top - anchor.current.top;
      anchor.current = null;
    }
  }, [shown.length, shown[0]?.id, shown.at(-1)?.id]);

  useEffect(() => {
    const target = sentinel.current;
    if (!target || !hasOlder) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !state?.loadingOlder) void loadOlder();
    }, { root: scroller.current });
    observer.observe(target);
    return () => observer.disconnect();
  }, [hasOlder, start, state?.loadingOlder, messages.length]);

  useEffect(() => {
    if (messages.length && document.visibilityState === 'visible') void store.markRead(chatId);
  }, [messages.at(-1)?.id]);

  const onScroll = () => {
    const box = scroller.current!;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    stickToBottom.current = atBottom;
    if (atBottom && end < messages.length) {
      // Newer messages are loaded but not shown: move the window down.
      anchorOn(shown.at(-1));
      setWindowEnd(end + WINDOW_STEP >= messages.length ? null : end + WINDOW_STEP);
    }
  };

  const details = state?.details ?? null;
  const title = details ? chatTitle(store, details) : 'Conversation';
  const seenId = lastSeenOwnMessage(store, details, messages);
  const typing = state?.typing ?? [];

  return (
    <section class="cwc-conversation" aria-labelledby={`title-${chatId}`}>
      <header class="cwc-conversation-head">
        {props.showBack && (
          <a class="cwc-back" href={router.href('/chats')} onClick={(e) => (e.preventDefault(), router.navigate('/chats'))}>
            <Icon name="back" /> <span class="visually-hidden">Back to chats</span>
          </a>
        )}
        <h2 id={`title-${chatId}`} ref={heading} tabIndex={-1}>
          {title}
        </h2>
        {details?.kind === 'support' && store.session.role === 'admin' && <span class="cwc-tag">Support</span>}
      </header>
      {state?.error != null && !state.messages.length ? (
        <p class="cwc-error cwc-pad" role="alert">
          {errorSentence(state.error)}
        </p>
      ) : null}
      <div class="cwc-history" ref={scroller} onScroll={onScroll} tabIndex={0} aria-label={`Messages with ${title}`}>
        {hasOlder ? (
          <div ref={sentinel} class="cwc-older">
            <button type="button" class="cwc-button cwc-small" onClick={() => void loadOlder()} disabled={state?.loadingOlder}>
              {state?.loadingOlder ? 'Loading…' : 'Load older messages'}
            </button>
          </div>
        ) : (
          state?.details && <p class="cwc-muted cwc-start">This is the beginning of the conversation.</p>
        )}
        <div role="log" aria-live="polite" aria-relevant="additions" aria-label="Messages">
        <ol class="cwc-messages">
          {shown.map((m) => (
            <MessageItem key={m.id} message={m} chat={details} seen={m.id === seenId} onReply={setReplyTo} onError={setActionError} />
          ))}
        </ol>
        </div>
        {!state && <p class="cwc-muted cwc-pad">Loading…</p>}
        {state && !messages.length && state.details && <p class="cwc-muted cwc-pad">No messages yet. Say hello!</p>}
      </div>
      <p class="cwc-typing" aria-live="polite">
        {typing.length ? `${typing.length === 1 ? 'Someone is' : 'People are'} typing…` : ''}
      </p>
      {actionError && (
        <p class="cwc-error cwc-pad" role="alert">
          {actionError}{' '}
          <button type="button" class="cwc-link" onClick={() => setActionError(null)}>
            Dismiss
          </button>
        </p>
      )}
      <Composer chatId={chatId} replyTo={replyTo} onCancelReply={() => setReplyTo(null)} />
    </section>
  );
}

/** "Seen": the newest own message another participant has read (the server's read markers). */
function lastSeenOwnMessage(store: ReturnType<typeof useClient>['store'], details: import('../chatStore').ChatDetails | null, messages: Message[]): string | null {
  const markers = (details?.readMarkers ?? []).filter((r) => {
    const p = r.participant;
    const id = typeof p === 'string' ? p : p.id;
    return id !== store.session.id;
  });
  if (!markers.length) return null;
  const readIds = new Set(markers.map((r) => r.messageId));
  let seenIndex = -1;
  messages.forEach((m, i) => {
    if (readIds.has(m.id)) seenIndex = Math.max(seenIndex, i);
  });
  for (let i = seenIndex; i >= 0; i--) if (store.isMine(messages[i]!)) return messages[i]!.id;
  return null;
}
