import { useEffect, useState } from 'preact/hooks';
import { useClient } from '../context';
import { errorSentence } from '../errors';
import { unwrap } from '../api/client';
import type { Route } from '../router';

/**
 * The "Message this person" deep links: a customer opens a direct chat (from a Feed post's author,
 * a shared booking's co-participant, the Community page); an administrator opens the support chat
 * of a customer (profile, booking, ticket, notification). Lands in the conversation.
 */
export function StartChat(props: { route: Route }) {
  const { store, router } = useClient();
  const [error, setError] = useState<string | null>(null);
  const { customerId, via } = props.route;

  useEffect(() => {
    if (!customerId) return setError('This link does not name a person.');
    const open =
      store.session.role === 'admin'
        ? unwrap(store.api.POST('/v1/networks/{nid}/chats', { params: { path: { nid: store.session.networkId } }, body: { customerId } }))
        : unwrap(store.api.POST('/v1/chats', { body: { userId: customerId, via: via ?? { type: 'community' } } }));
    open
      .then((chat) => {
        void store.loadChats();
        router.navigate(`/chats/${chat.id}`, { replace: true });
      })
      .catch((err) => setError(errorSentence(err)));
  }, [customerId, via?.type, via?.id]);

  return (
    <section class="cwc-pad" aria-labelledby="start-title">
      {/* A refused link says so in its heading too: the conversation is not being opened. */}
      <h2 id="start-title">{error ? "This conversation can't be opened" : 'Opening the conversation…'}</h2>
      {error && (
        <>
          <p class="cwc-error" role="alert">
            {error}
          </p>
          <a href={router.href('/chats')} onClick={(e) => (e.preventDefault(), router.navigate('/chats'))}>
            Back to chats
          </a>
        </>
      )}
    </section>
  );
}
