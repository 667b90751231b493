import { AsyncLocalStorage } from 'node:async_hooks';

const memo = new AsyncLocalStorage<Map<string, Promise<unknown>>>();

/**
 * Runs one request with its own memo: a read that several checks of the same request make (the
 * caller's own status, read by the route table and again by the conversation access check) goes
 * to the database once. Only for reads of what the request itself does not change; nothing
 * outlives the request, so there is nothing to invalidate. An appservice transaction from Synapse
 * is a request too: its events share reads of what events never change (appservice/domain/transactionReads.ts).
 */
export function withRequestMemo<T>(fn: () => Promise<T>, shared: RequestMemo = newRequestMemo()): Promise<T> {
  return memo.run(shared, fn);
}

/**
 * One memo for a piece of work that runs in several places: an appservice transaction, whose rooms
 * run each in its own lane (each lane's task runs `withRequestMemo(task, theTransactionsMemo)`).
 */
export type RequestMemo = Map<string, Promise<unknown>>;

export function newRequestMemo(): RequestMemo {
  return new Map();
}

/** `load()` once per request and key (every call outside a request loads). A failed load is not kept. */
export function onceInRequest<T>(key: string, load: () => Promise<T>): Promise<T> {
  const store = memo.getStore();
  if (!store) return load();
  let promise = store.get(key) as Promise<T> | undefined;
  if (!promise) {
    promise = load();
    store.set(key, promise);
    promise.catch(() => store.delete(key));
  }
  return promise;
}

/**
 * Starts a read the request's handler will make, beside the checks that run before it (the route
 * table's). Only `sharedInRequest` calls with the same key use it: a read started this way is
 * never handed to code that did not ask for a shared one.
 */
export function startInRequest(key: string, load: () => Promise<unknown>): void {
  void onceInRequest(key, load).catch(() => undefined);
}

/** The read `startInRequest` began for this request, or a fresh one when none was started. */
export function sharedInRequest<T>(key: string, load: () => Promise<T>): Promise<T> {
  const started = memo.getStore()?.get(key) as Promise<T> | undefined;
  return started ?? load();
}
