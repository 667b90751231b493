import { useEffect, useState } from 'preact/hooks';
import { useClient } from '../context';
import { errorSentence, typeName } from '../errors';
import { unwrap } from '../api/client';
import type { Settings } from '../chatStore';

const COMMON_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'text/plain', 'application/zip', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'];
const VISIBILITY = [
  { value: 'network_members', label: 'Everyone in the network', hint: 'Members see all active members of the network.' },
  { value: 'location_members', label: 'People at the same location', hint: 'Members see active members who share a location with them.' },
  { value: 'administrators', label: 'Administrators only', hint: 'Members see nobody; only administrators see the list.' },
] as const;

/** Network settings › Chats: the toggle, community visibility, attachment policy, notifications. */
export function ChatSettings() {
  const { store } = useClient();
  const nid = store.session.networkId;
  const [settings, setSettings] = useState<Settings | null>(null);
  const [draft, setDraft] = useState<Settings | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [secret, setSecret] = useState('');

  useEffect(() => {
    unwrap(store.api.GET('/v1/networks/{nid}/settings', { params: { path: { nid } } }))
      .then((s) => (setSettings(s), setDraft(s)))
      .catch((err) => setError(errorSentence(err)));
  }, []);

  if (!draft || !settings) {
    return (
      <section class="cwc-pad" aria-labelledby="settings-title">
        <h2 id="settings-title">Chat settings</h2>
        <p class={error ? 'cwc-error' : 'cwc-muted'} role={error ? 'alert' : undefined}>
          {error ?? 'Loading…'}
        </p>
      </section>
    );
  }

  const types = [...new Set([...COMMON_TYPES, ...settings.attachments.allowedTypes])];
  const save = async (e: Event) => {
    e.preventDefault();
    setStatus(null);
    setError(null);
    const body: Record<string, unknown> = {};
    if (draft.chatsEnabled !== settings.chatsEnabled) body.chatsEnabled = draft.chatsEnabled;
    if (draft.communityVisibility !== settings.communityVisibility) body.communityVisibility = draft.communityVisibility;
    if (JSON.stringify(draft.attachments) !== JSON.stringify(settings.attachments)) body.attachments = draft.attachments;
    const notifications: Record<string, unknown> = {};
    if (draft.notifications.inApp !== settings.notifications.inApp) notifications.inApp = draft.notifications.inApp;
    if (draft.notifications.webhookUrl !== settings.notifications.webhookUrl) notifications.webhookUrl = draft.notifications.webhookUrl || null;
    if (secret) notifications.webhookSecret = secret;
    if (Object.keys(notifications).length) body.notifications = notifications;
    if (!Object.keys(body).length) return setStatus('Nothing changed.');
    try {
      const saved = await unwrap(store.api.PATCH('/v1/networks/{nid}/settings', { params: { path: { nid } }, body: body as never }));
      setSettings(saved);
      setDraft(saved);
      setSecret('');
      setStatus('Saved.');
      if ('chatsEnabled' in body || 'communityVisibility' in body || 'attachments' in body) void store.reloadAll();
    } catch (err) {
      setError(errorSentence(err));
    }
  };

  return (
    <section class="cwc-settings" aria-labelledby="settings-title">
      <header class="cwc-list-head">
        <h2 id="settings-title">Chat settings</h2>
      </header>
      <form class="cwc-pad cwc-form" onSubmit={save}>
        <fieldset>
          <legend>Chats</legend>
          <label class="cwc-check">
            <input type="checkbox" checked={draft.chatsEnabled} onChange={(e) => setDraft({ ...draft, chatsEnabled: e.currentTarget.checked })} />
            <span>Chats are on for this network (all locations)</span>
          </label>
          <p class="cwc-hint">Turning chats off hides Chats for everyone and makes conversations read-only; nothing is deleted.</p>
        </fieldset>
        <fieldset>
          <legend>Who members can find on the Community page</legend>
          {VISIBILITY.map((v) => (
            <label class="cwc-check">
              <input type="radio" name="visibility" value={v.value} checked={draft.communityVisibility === v.value} onChange={() => setDraft({ ...draft, communityVisibility: v.value })} />
              <span>
                {v.label} <span class="cwc-hint">{v.hint}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Attachments</legend>
          <div class="cwc-type-grid">
            {types.map((t) => (
              <label class="cwc-check">
                <input
                  type="checkbox"
                  checked={draft.attachments.allowedTypes.includes(t)}
                  onChange={(e) =>
                    setDraft({
                      ...draft,
                      attachments: { ...draft.attachments, allowedTypes: e.currentTarget.checked ? [...draft.attachments.allowedTypes, t] : draft.attachments.allowedTypes.filter((x) => x !== t) },
                    })
                  }
                />
                <span>{typeName(t)}</span>
              </label>
            ))}
          </div>
          <label class="cwc-field">
            <span>Largest file (MB)</span>
            <input
              type="number"
              min={0.1}
              step={0.1}
              value={+(draft.attachments.maxBytes / (1024 * 1024)).toFixed(2)}
              onInput={(e) => setDraft({ ...draft, attachments: { ...draft.attachments, maxBytes: Math.max(1, Math.round(Number(e.currentTarget.value) * 1024 * 1024)) } })}
            />
          </label>
        </fieldset>
        <fieldset>
          <legend>Notifications</legend>
          <label class="cwc-check">
            <input type="checkbox" checked={draft.notifications.inApp} onChange={(e) => setDraft({ ...draft, notifications: { ...draft.notifications, inApp: e.currentTarget.checked } })} />
            <span>In-app notifications for new support messages</span>
          </label>
          <label class="cwc-field">
            <span>Webhook URL (optional)</span>
            <input type="url" value={draft.notifications.webhookUrl ?? ''} onInput={(e) => setDraft({ ...draft, notifications: { ...draft.notifications, webhookUrl: e.currentTarget.value || null } })} />
          </label>
          <label class="cwc-field">
            <span>Webhook secret {settings.notifications.webhookSecretSet ? '(set; type to replace)' : ''}</span>
            <input type="password" autoComplete="new-password" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
          </label>
        </fieldset>
        <div class="cwc-row">
          <button type="submit" class="cwc-button cwc-primary">
            Save settings
          </button>
          <span role="status" class="cwc-muted">
            {status}
          </span>
        </div>
        <p class="cwc-error" role="alert">
          {error}
        </p>
      </form>
    </section>
  );
}
