import { useClient } from '../context';

/** Tells the person when the live connection is down (offline, reconnecting). */
export function ConnectionBanner() {
  const { store } = useClient();
  const state = store.stream.value;
  const text =
    state === 'offline'
      ? "You're offline. New messages will appear when the connection is back."
      : state === 'reconnecting'
        ? 'Connection lost. Reconnecting…'
        : null;
  return (
    <div class="cwc-banner" role="status" aria-live="polite" hidden={!text}>
      {text}
    </div>
  );
}
