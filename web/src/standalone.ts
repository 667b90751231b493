import './element';
import type { CoworkingChatElement } from './element';

/**
 * The standalone page at /chat/ (demo, development) and the iframe route /chat/embed. Its token
 * comes from the parent window when framed (postMessage {type: "coworking-chat:token", token},
 * asked for with "coworking-chat:token-request"), or, in development only, from /chat/dev-token
 * for the person in ?as=role:id@network (refused by servers in production).
 */
const chat = document.getElementById('chat') as CoworkingChatElement;
const message = document.getElementById('page-message')!;
const params = new URLSearchParams(location.search);

function show(text: string): void {
  message.textContent = text;
  message.hidden = false;
  chat.hidden = true;
}

let cached: { token: string; until: number } | null = null;

async function devToken(as: string): Promise<string> {
  const match = /^(customer|admin):([^@]+)@(.+)$/.exec(as);
  if (!match) throw new Error('?as= must look like customer:alice@demo');
  if (cached && cached.until > Date.now()) return cached.token;
  const url = new URL('dev-token', location.href);
  url.search = new URLSearchParams({ role: match[1]!, sub: match[2]!, net: match[3]! }).toString();
  const response = await fetch(url);
  if (!response.ok) throw new Error('development sign-in is turned off on this server');
  const body = (await response.json()) as { token: string; expiresIn: number };
  cached = { token: body.token, until: Date.now() + (body.expiresIn - 60) * 1000 };
  return body.token;
}

function parentToken(): () => Promise<string> {
  let current: string | null = null;
  let waiting: Array<(t: string) => void> = [];
  window.addEventListener('message', (e) => {
    if (e.source !== window.parent || e.data?.type !== 'coworking-chat:token' || typeof e.data.token !== 'string') return;
    current = e.data.token;
    for (const resolve of waiting) resolve(current!);
    waiting = [];
  });
  const ask = () => window.parent.postMessage({ type: 'coworking-chat:token-request' }, '*');
  ask();
  return () => {
    if (current) {
      const exp = JSON.parse(atob(current.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).exp as number | undefined;
      if (!exp || exp * 1000 - Date.now() > 30000) return Promise.resolve(current);
      current = null;
      ask();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
}

const as = params.get('as');
if (params.get('route')) chat.setAttribute('route', params.get('route')!);
if (window.parent !== window) {
  chat.getToken = parentToken();
} else if (as) {
  devToken(as)
    .then(() => (chat.getToken = () => devToken(as)))
    .catch((err: Error) => show(`Cannot sign in: ${err.message}.`));
} else {
  show('Open Chats from your portal. (For the demo, use the links that bash scripts/start.sh prints.)');
}
