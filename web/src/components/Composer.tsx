import { Icon } from './Icon';
import { useRef, useState } from 'preact/hooks';
import { useClient } from '../context';
import { allowedTypesSentence, errorSentence, formatBytes } from '../errors';
import type { Message } from '../chatStore';

/** The text box, the send button and the paperclip (allowed formats and size shown before upload). */
export function Composer(props: { chatId: string; replyTo: Message | null; onCancelReply: () => void }) {
  const { store } = useClient();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const file = useRef<HTMLInputElement>(null);
  const policy = store.features.value?.attachments ?? null;
  const hintId = `attach-hint-${props.chatId}`;

  const send = async () => {
    const body = text.trim();
    if (!body || busy) return;
    setBusy(true);
    setError(null);
    try {
      await store.send(props.chatId, body, props.replyTo ?? undefined);
      setText('');
      props.onCancelReply();
    } catch (err) {
      setError(errorSentence(err, policy));
    } finally {
      setBusy(false);
    }
  };

  const upload = async (picked: File | undefined) => {
    if (!picked) return;
    setError(null);
    if (policy && picked.size > policy.maxBytes) {
      setError(`This file is too large. The limit is ${formatBytes(policy.maxBytes)}.`);
      return;
    }
    setBusy(true);
    try {
      await store.sendFile(props.chatId, picked);
    } catch (err) {
      setError(errorSentence(err, policy));
    } finally {
      setBusy(false);
      if (file.current) file.current.value = '';
    }
  };

  return (
    <form
      class="cwc-composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      {props.replyTo && (
        <div class="cwc-replying">
          <span>
            Replying to: <q>{props.replyTo.body.slice(0, 80)}</q>
          </span>
          <button type="button" class="cwc-icon-button" aria-label="Cancel reply" onClick={props.onCancelReply}>
            ×
          </button>
        </div>
      )}
      <p class="cwc-error" role="alert">
        {error}
      </p>
      <div class="cwc-composer-row">
        <input
          ref={file}
          id={`file-${props.chatId}`}
          type="file"
          class="visually-hidden"
          accept={policy?.allowedTypes.join(',')}
          aria-label="Attach a file"
          aria-describedby={hintId}
          onChange={(e) => void upload(e.currentTarget.files?.[0])}
          tabIndex={-1}
        />
        <button type="button" class="cwc-icon-button cwc-attach" aria-label="Attach a file" aria-describedby={hintId} disabled={busy} onClick={() => file.current?.click()}>
          <Icon name="paperclip" />
        </button>
        <label class="visually-hidden" for={`text-${props.chatId}`}>
          Message
        </label>
        <textarea
          id={`text-${props.chatId}`}
          class="cwc-input"
          rows={1}
          placeholder="Write a message"
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value);
            void store.setTyping(props.chatId, e.currentTarget.value.length > 0);
          }}
          onBlur={() => void store.setTyping(props.chatId, false)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button type="submit" class="cwc-button cwc-primary" disabled={busy || !text.trim()}>
          Send
        </button>
      </div>
      <p id={hintId} class="cwc-hint">
        {policy ? `Files: ${allowedTypesSentence(policy)}, up to ${formatBytes(policy.maxBytes)}.` : ''}
      </p>
    </form>
  );
}
