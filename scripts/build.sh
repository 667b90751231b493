#!/usr/bin/env bash
# The release build (README "Deploying"): the server compiled by tsc into dist/ (CommonJS, as the
# sources run under tsx), with the web client's bundle where the built server serves it from
# (dist/web/dist, next to dist/portal-api). Start with `node dist/bin/server.js <role>`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
rm -rf dist
tsc -p tsconfig.build.json
vite build --config web/vite.config.mts --logLevel warn
mkdir -p dist/web
cp -R web/dist dist/web/dist
