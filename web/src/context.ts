import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ChatStore } from './chatStore';
import type { Router } from './router';

export interface ClientContext {
  store: ChatStore;
  router: Router;
  /** The element's root (shadow root), where dialogs and focus live. */
  root: ShadowRoot | Document;
}

export const Client = createContext<ClientContext | null>(null);

export function useClient(): ClientContext {
  const value = useContext(Client);
  if (!value) throw new Error('outside the chat client');
  return value;
}
