import { useEffect, useState } from 'preact/hooks';
import { useClient } from '../context';
import { errorSentence } from '../errors';
import { unwrap } from '../api/client';
import { Avatar } from '../components/Avatar';
import type { Person } from '../chatStore';

/** The Community page: the people this customer may browse (community visibility and privacy), by name and location. */
export function CommunityPage() {
  const { store, router } = useClient();
  const [q, setQ] = useState('');
  const [locationId, setLocationId] = useState('');
  const [people, setPeople] = useState<Person[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [locations, setLocations] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = async (more: boolean) => {
    try {
      const page = await unwrap(
        store.api.GET('/v1/community', { params: { query: { q: q.trim() || undefined, locationId: locationId || undefined, cursor: more ? (cursor ?? undefined) : undefined, limit: 30 } } }),
      );
      const next = more ? [...(people ?? []), ...page.people] : page.people;
      setPeople(next);
      setCursor(page.nextCursor);
      setLocations((known) => [...new Set([...known, ...next.flatMap((p) => p.locationIds)])].sort());
      setError(null);
    } catch (err) {
      setError(errorSentence(err));
    }
  };

  useEffect(() => {
    const timer = setTimeout(() => void load(false), 250);
    return () => clearTimeout(timer);
  }, [q, locationId]);

  const message = async (person: Person) => {
    try {
      const chat = await unwrap(store.api.POST('/v1/chats', { body: { userId: person.customerId, via: { type: 'community' } } }));
      void store.loadChats();
      router.navigate(`/chats/${chat.id}`);
    } catch (err) {
      setError(errorSentence(err));
    }
  };

  return (
    <section class="cwc-community" aria-labelledby="community-title">
      <header class="cwc-list-head">
        <h2 id="community-title">Community</h2>
      </header>
      <div class="cwc-filters">
        <label class="cwc-field">
          <span>Search people</span>
          <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} placeholder="Name" />
        </label>
        <label class="cwc-field">
          <span>Location</span>
          <select value={locationId} onChange={(e) => setLocationId(e.currentTarget.value)}>
            <option value="">All locations</option>
            {locations.map((l) => (
              <option value={l}>{l}</option>
            ))}
          </select>
        </label>
      </div>
      <p class="cwc-error cwc-pad" role="alert">
        {error}
      </p>
      {people === null && !error && <p class="cwc-muted cwc-pad">Loading…</p>}
      {people && !people.length && <p class="cwc-muted cwc-pad">Nobody to show here.</p>}
      <ul class="cwc-people" aria-label="People">
        {people?.map((p) => (
          <li key={p.customerId} class="cwc-person">
            <Avatar name={p.displayName} />
            <span class="cwc-person-name">{p.displayName}</span>
            <button type="button" class="cwc-button cwc-small" onClick={() => void message(p)} aria-label={`Message ${p.displayName}`}>
              Message
            </button>
          </li>
        ))}
      </ul>
      {cursor && (
        <div class="cwc-pad">
          <button type="button" class="cwc-button cwc-small" onClick={() => void load(true)}>
            Show more
          </button>
        </div>
      )}
    </section>
  );
}
