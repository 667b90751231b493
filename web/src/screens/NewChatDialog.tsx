import { useEffect, useState } from 'preact/hooks';
import { useClient } from '../context';
import { errorSentence } from '../errors';
import { unwrap } from '../api/client';
import { Dialog } from '../components/Dialog';
import { Avatar } from '../components/Avatar';
import type { Person } from '../chatStore';

/** "New chat" for administrators: search customers (members and non-members) and open their support chat. */
export function NewChatDialog(props: { onClose: () => void }) {
  const { store, router } = useClient();
  const [q, setQ] = useState('');
  const [people, setPeople] = useState<Person[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const timer = setTimeout(async () => {
      try {
        const page = await unwrap(
          store.api.GET('/v1/networks/{nid}/customers', { params: { path: { nid: store.session.networkId }, query: { q: q.trim() || undefined, limit: 20 } } }),
        );
        setPeople(page.customers);
        setError(null);
      } catch (err) {
        setError(errorSentence(err));
      }
    }, 250);
    return () => clearTimeout(timer);
  }, [q]);

  const open = async (person: Person) => {
    try {
      const chat = await unwrap(store.api.POST('/v1/networks/{nid}/chats', { params: { path: { nid: store.session.networkId } }, body: { customerId: person.customerId } }));
      props.onClose();
      void store.loadChats();
      router.navigate(`/chats/${chat.id}`);
    } catch (err) {
      setError(errorSentence(err));
    }
  };

  return (
    <Dialog title="New chat" onClose={props.onClose}>
      <label class="cwc-field">
        <span>Search customers</span>
        <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} placeholder="Name" autoFocus />
      </label>
      <p class="cwc-error" role="alert">
        {error}
      </p>
      <ul class="cwc-people cwc-people-dialog" aria-label="Customers">
        {people?.map((p) => (
          <li key={p.customerId} class="cwc-person">
            <Avatar name={p.displayName} />
            <span class="cwc-person-name">
              {p.displayName} <span class="cwc-muted">{p.kind === 'member' ? 'member' : 'non-member'}</span>
            </span>
            <button type="button" class="cwc-button cwc-small" onClick={() => void open(p)} aria-label={`Message ${p.displayName}`}>
              Message
            </button>
          </li>
        ))}
        {people && !people.length && <li class="cwc-muted">No customer matches.</li>}
      </ul>
    </Dialog>
  );
}
