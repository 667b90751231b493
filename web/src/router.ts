import { signal, type Signal } from '@preact/signals';

/**
 * Where the person is in the client: a path such as /chats/ch_… . The standalone page keeps it in
 * the URL fragment (so links and reloads work); inside a host page the element keeps it to itself
 * and the host sets it through the `route` attribute (deep links).
 */
export interface Router {
  readonly path: Signal<string>;
  navigate(path: string, opts?: { replace?: boolean }): void;
  href(path: string): string;
  stop(): void;
}

export function createRouter(initial: string, useHash: boolean): Router {
  const fromHash = () => decodeURIComponent(location.hash.replace(/^#/, '')) || initial;
  const path = signal(useHash ? fromHash() : initial);
  const onHash = () => (path.value = fromHash());
  if (useHash) window.addEventListener('hashchange', onHash);
  return {
    path,
    navigate(next, opts) {
      if (useHash) {
        const url = `#${next}`;
        if (opts?.replace) history.replaceState(null, '', url);
        else history.pushState(null, '', url);
      }
      path.value = next;
    },
    href: (p) => (useHash ? `#${p}` : p),
    stop: () => window.removeEventListener('hashchange', onHash),
  };
}

export interface Route {
  screen: 'chats' | 'conversation' | 'community' | 'message' | 'customer' | 'notifications' | 'settings';
  chatId?: string;
  customerId?: string;
  via?: { type: 'community' | 'feed_post' | 'booking'; id?: string };
}

/** Paths: /chats, /chats/:chatId, /community, /message/:customerId?via=feed_post:ID, /customer/:customerId, /notifications, /settings */
export function parseRoute(path: string): Route {
  const [pathname = '', search = ''] = path.split('?');
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(search);
  switch (parts[0]) {
    case 'chats':
      return parts[1] ? { screen: 'conversation', chatId: parts[1] } : { screen: 'chats' };
    case 'community':
      return { screen: 'community' };
    case 'message': {
      const [type, id] = (query.get('via') ?? 'community').split(':');
      const via = type === 'feed_post' || type === 'booking' ? { type, id } : { type: 'community' as const };
      return { screen: 'message', customerId: parts[1], via: via as Route['via'] };
    }
    case 'customer':
      return { screen: 'customer', customerId: parts[1] };
    case 'notifications':
      return { screen: 'notifications' };
    case 'settings':
      return { screen: 'settings' };
    default:
      return { screen: 'chats' };
  }
}
