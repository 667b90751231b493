import { h, render } from 'preact';
import { createApi } from './api/client';
import { ChatStore } from './chatStore';
import { Client } from './context';
import { createRouter } from './router';
import { sessionFromToken } from './session';
import { App } from './App';

/**
 * <coworking-chat api-base="https://chat.example.org" route="/chats"> — the chat UI a host portal
 * drops in. The host sets `getToken` (a function returning a promise of its JWT for the signed-in
 * person); the element calls it before each request, so the host renews tokens as it likes.
 * Attributes: `api-base` (the portal API's URL; default this origin), `route` (a deep link such as
 * /message/bob?via=feed_post:p1 or, for administrators, /customer/bob), `standalone` (keep the
 * route in the page's URL fragment). Styles live in a shadow root; theme it with CSS variables.
 */
export class CoworkingChatElement extends HTMLElement {
  static observedAttributes = ['route'];
  getToken: (() => Promise<string> | string) | null = null;
  private store: ChatStore | null = null;
  private router: ReturnType<typeof createRouter> | null = null;
  private mount: HTMLDivElement | null = null;

  connectedCallback(): void {
    if (this.mount) return;
    const shadow = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
    const style = document.createElement('link');
    style.rel = 'stylesheet';
    style.href = new URL('./styles.css', import.meta.url).href;
    this.mount = document.createElement('div');
    this.mount.className = 'cwc-root';
    shadow.append(style, this.mount);
    void this.startWhenTokenReady();
  }

  disconnectedCallback(): void {
    this.store?.stop();
    this.router?.stop();
    if (this.mount) render(null, this.mount);
    this.mount?.remove();
    this.mount = null;
    this.store = null;
  }

  attributeChangedCallback(name: string, _old: string | null, value: string | null): void {
    if (name === 'route' && value && this.router) this.router.navigate(value);
  }

  private async token(): Promise<string> {
    if (!this.getToken) throw new Error('coworking-chat: set the getToken property');
    return await this.getToken();
  }

  private async startWhenTokenReady(): Promise<void> {
    // The host may set getToken after adding the element.
    for (let i = 0; !this.getToken && i < 100; i++) await new Promise((r) => setTimeout(r, 50));
    if (!this.mount) return;
    const apiBase = (this.getAttribute('api-base') || location.origin).replace(/\/+$/, '');
    let session;
    try {
      session = sessionFromToken(await this.token());
    } catch (err) {
      this.mount.textContent = `Chats cannot start: ${(err as Error).message}.`;
      return;
    }
    const api = createApi(apiBase, () => this.token());
    this.store = new ChatStore(api, session, apiBase);
    this.router = createRouter(this.getAttribute('route') || '/chats', this.hasAttribute('standalone'));
    render(h(Client.Provider, { value: { store: this.store, router: this.router, root: this.shadowRoot! } }, h(App, {})), this.mount);
    this.store.start();
  }
}

if (!customElements.get('coworking-chat')) customElements.define('coworking-chat', CoworkingChatElement);
