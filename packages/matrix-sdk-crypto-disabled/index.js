'use strict';
// Every export is a class that refuses to be used: importing works (the bot SDK imports the
// crypto bindings eagerly), any attempt to use end-to-end encryption fails loudly.
const message =
  'end-to-end encryption is not available: @matrix-org/matrix-sdk-crypto-nodejs is replaced ' +
  'by a local stand-in (see README, "Why the crypto package is replaced")';

function refuse() {
  throw new Error(message);
}

const stubs = new Map();
module.exports = new Proxy(
  {},
  {
    get(_target, prop) {
      if (typeof prop !== 'string' || prop === 'then' || prop === '__esModule') return undefined;
      if (!stubs.has(prop)) {
        const Stub = function () {
          refuse();
        };
        Object.defineProperty(Stub, 'name', { value: prop });
        stubs.set(prop, new Proxy(Stub, { get: (t, p) => (p in t ? t[p] : undefined) }));
      }
      return stubs.get(prop);
    },
  },
);
