import { Icon } from './Icon';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useClient } from '../context';
import { errorSentence } from '../errors';
import { senderName, shortTime } from '../names';
import type { ChatDetails, Message } from '../chatStore';
import { Dialog } from './Dialog';
import { MediaAttachment } from './MediaAttachment';

const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉'];

/** One message: its bubble, attachment, reactions, "seen", and the (…) menu (hover, focus or long-press). */
export function MessageItem(props: { message: Message; chat: ChatDetails | null; seen: boolean; onReply: (m: Message) => void; onError: (text: string) => void }) {
  const { store } = useClient();
  const { message, chat } = props;
  const mine = store.isMine(message);
  const caps = store.capabilities.value;
  const [menuOpen, setMenuOpen] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.body);
  const trigger = useRef<HTMLButtonElement>(null);
  const press = useRef<ReturnType<typeof setTimeout> | null>(null);
  const name = senderName(store, chat, message);
  const menu = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (menuOpen) menu.current?.querySelector<HTMLElement>('[role=menuitem]')?.focus();
  }, [menuOpen]);

  const closeMenu = () => {
    setMenuOpen(false);
    trigger.current?.focus();
  };
  const act = async (what: () => Promise<void>) => {
    try {
      await what();
    } catch (err) {
      props.onError(errorSentence(err));
    }
  };
  const onMenuKey = (e: KeyboardEvent) => {
    const box = e.currentTarget as HTMLElement;
    const items = [...box.querySelectorAll<HTMLButtonElement>('[role=menuitem]')];
    const current = items.indexOf((box.getRootNode() as ShadowRoot | Document).activeElement as HTMLButtonElement);
    if (e.key === 'Escape') {
      e.preventDefault();
      closeMenu();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = (current + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
      items[next]?.focus();
    }
  };

  return (
    <li
      class={`cwc-message ${mine ? 'cwc-mine' : 'cwc-theirs'}${menuOpen ? ' cwc-menu-open' : ''}`}
      data-message-id={message.id}
      onTouchStart={() => (press.current = setTimeout(() => setMenuOpen(true), 500))}
      onTouchEnd={() => press.current && clearTimeout(press.current)}
    >
      <div class="cwc-message-meta">
        <span class="cwc-sender">{name}</span> <time dateTime={message.sentAt}>{shortTime(message.sentAt)}</time>
        {message.editedAt && <span class="cwc-muted"> · edited</span>}
      </div>
      <div class="cwc-bubble-row">
        <div class="cwc-bubble">
          {message.replyTo && (
            <blockquote class="cwc-reply-quote">
              <span class="visually-hidden">In reply to: </span>
              {message.replyTo.bodyPreview}
            </blockquote>
          )}
          {editing ? (
            <form
              class="cwc-edit"
              onSubmit={(e) => {
                e.preventDefault();
                void act(async () => {
                  await store.edit(message.chatId, message.id, draft.trim());
                  setEditing(false);
                });
              }}
            >
              <label class="visually-hidden" for={`edit-${message.id}`}>
                Edit message
              </label>
              <textarea id={`edit-${message.id}`} value={draft} onInput={(e) => setDraft(e.currentTarget.value)} rows={2} />
              <div class="cwc-row">
                <button type="submit" class="cwc-button cwc-primary" disabled={!draft.trim()}>
                  Save
                </button>
                <button type="button" class="cwc-button" onClick={() => setEditing(false)}>
                  Cancel
                </button>
              </div>
            </form>
          ) : message.attachment ? (
            <MediaAttachment message={message} />
          ) : (
            <p class="cwc-text">{message.body}</p>
          )}
        </div>
        <div class="cwc-actions">
          <button
            ref={trigger}
            type="button"
            class="cwc-icon-button cwc-more"
            aria-label={`Actions for message from ${name}`}
            aria-haspopup="menu"
            aria-expanded={menuOpen}
            onClick={() => setMenuOpen(!menuOpen)}
          >
            <Icon name="more" />
          </button>
          {menuOpen && (
            <div
              class="cwc-menu"
              role="menu"
              aria-label="Message actions"
              onKeyDown={onMenuKey}
              ref={menu}
            >
              <button type="button" role="menuitem" onClick={() => (setMenuOpen(false), props.onReply(message))}>
                Reply
              </button>
              {caps.reactions &&
                QUICK_REACTIONS.map((key) => (
                  <button type="button" role="menuitem" aria-label={`React with ${key}`} onClick={() => (setMenuOpen(false), void act(() => store.react(message.chatId, message, key)))}>
                    {key}
                  </button>
                ))}
              {mine && caps.edit && message.type === 'text' && (
                <button type="button" role="menuitem" onClick={() => (setMenuOpen(false), setDraft(message.body), setEditing(true))}>
                  Edit
                </button>
              )}
              {mine && (
                <button type="button" role="menuitem" class="cwc-danger" onClick={() => (setMenuOpen(false), setConfirming(true))}>
                  Unsend
                </button>
              )}
            </div>
          )}
        </div>
      </div>
      {(message.reactions?.length ?? 0) > 0 && (
        <div class="cwc-reactions" role="group" aria-label="Reactions">
          {message.reactions!.map((r) => (
            <button type="button" class="cwc-reaction" aria-pressed={r.mine} aria-label={`${r.key} ${r.count}${r.mine ? ', yours' : ''}`} onClick={() => void act(() => store.react(message.chatId, message, r.key))}>
              {r.key} {r.count}
            </button>
          ))}
        </div>
      )}
      {props.seen && <div class="cwc-seen">Seen</div>}
      {confirming && (
        <Dialog title="Unsend this message?" onClose={() => setConfirming(false)} describedBy={`unsend-${message.id}`}>
          <p id={`unsend-${message.id}`}>It disappears for everyone in this conversation, also in Matrix apps. This can't be undone.</p>
          <div class="cwc-row cwc-dialog-actions">
            <button type="button" class="cwc-button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
            <button
              type="button"
              class="cwc-button cwc-danger-button"
              onClick={() => {
                setConfirming(false);
                void act(() => store.unsend(message.chatId, message.id));
              }}
            >
              Unsend
            </button>
          </div>
        </Dialog>
      )}
    </li>
  );
}
