import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { PROJECT_ROOT } from './cacheDir';
import { runInstallScript, startProcess, tail, waitFor } from './childProcess';

export interface NginxHandle {
  logPath: string;
  stop(): Promise<void>;
}

/**
 * The Matrix client-server paths Synapse's generic worker serves (Synapse's docs/workers.md,
 * "synapse.app.generic_worker", 1.163): sync, pagination, room and event reads, event sending,
 * membership, login and registration, directory search, keys. Everything else (admin API, media,
 * appservice-only endpoints) goes to the main process. One worker, so the "pagination for a room
 * on one instance" and "one user's /sync on one instance" rules hold trivially; with several,
 * hash on the room or on the access token as the doc shows.
 */
export const SYNAPSE_WORKER_PATHS: readonly string[] = [
  '^/_matrix/client/(r0|v3)/sync$',
  '^/_matrix/client/(api/v1|r0|v3)/events$',
  '^/_matrix/client/(api/v1|r0|v3)/initialSync$',
  '^/_matrix/client/(api/v1|r0|v3)/rooms/[^/]+/initialSync$',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/messages$',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/createRoom$',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/joined_members$',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/context/.*$',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/members$',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/state$',
  '^/_matrix/client/v1/rooms/.*/hierarchy$',
  '^/_matrix/client/(v1|unstable)/rooms/.*/relations/',
  '^/_matrix/client/v1/rooms/.*/threads$',
  '^/_matrix/client/(r0|v3|unstable)/account/whoami$',
  '^/_matrix/client/(r0|v3)/delete_devices$',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/devices(/|$)',
  '^/_matrix/client/versions$',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/event/',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/joined_rooms$',
  '^/_matrix/client/(api/v1|r0|v3|unstable/.*)/rooms/.*/aliases',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/search$',
  '^/_matrix/client/(r0|v3|unstable)/user/.*/filter(/|$)',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/directory/room/.*$',
  '^/_matrix/client/(r0|v3|unstable)/capabilities$',
  '^/_matrix/client/(r0|v3|unstable)/notifications$',
  '^/_matrix/client/(r0|v3|unstable)/keys/query$',
  '^/_matrix/client/(r0|v3|unstable)/keys/changes$',
  '^/_matrix/client/(r0|v3|unstable)/keys/claim$',
  '^/_matrix/client/(r0|v3|unstable)/room_keys/',
  '^/_matrix/client/(r0|v3|unstable)/keys/upload',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/login$',
  '^/_matrix/client/(r0|v3|unstable)/register$',
  '^/_matrix/client/(r0|v3|unstable)/register/available$',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/redact',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/send',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/state/',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/(join|invite|leave|ban|unban|kick)$',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/join/',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/knock/',
  '^/_matrix/client/(api/v1|r0|v3|unstable)/profile/',
  '^/_matrix/client/(r0|v3|unstable)/user_directory/search$',
];

export interface NginxOptions {
  dataDir: string;
  /** The Synapse front: client paths to the worker, everything else to the main process. */
  synapse: { port: number; mainPort: number; workerPorts: number[] };
  /** The portal API front: round robin over the API processes (absent: no portal front). */
  portalApi?: { port: number; backendPorts: number[] };
  /** Largest upload Synapse takes (synapse/homeserver.base.yaml max_upload_size). */
  maxBodySize: string;
}

/** nginx (Debian, scripts/install-nginx.sh) with a generated configuration, in the foreground. */
export async function startNginx(opts: NginxOptions): Promise<NginxHandle> {
  const binary = runInstallScript(join(PROJECT_ROOT, 'scripts', 'install-nginx.sh'));
  const dir = join(opts.dataDir, 'nginx');
  mkdirSync(join(dir, 'temp'), { recursive: true });
  const confPath = join(dir, 'nginx.conf');
  const logPath = join(dir, 'error.log');
  writeFileSync(confPath, nginxConfig(opts, dir, logPath));
  const proc = startProcess(binary, ['-p', dir, '-e', logPath, '-c', confPath, '-g', 'daemon off;'], { logPath: join(dir, 'stdout.log') });
  const ports = [opts.synapse.port, ...(opts.portalApi ? [opts.portalApi.port] : [])];
  await waitFor(`nginx on ${ports.join(', ')}`, async () => (await Promise.all(ports.map(listening))).every(Boolean), 15000, () => tail(logPath) + tail(join(dir, 'stdout.log')));
  return { logPath, stop: () => proc.stop(5000) };
}

function nginxConfig(opts: NginxOptions, dir: string, logPath: string): string {
  const temp = join(dir, 'temp');
  const upstream = (name: string, ports: number[], extra = '') => `  upstream ${name} {\n${ports.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;\n`).join('')}${extra}    keepalive 32;\n  }\n`;
  const proxy = (to: string) => `proxy_pass http://${to};`;
  const portal = opts.portalApi
    ? `
${upstream('portal_api', opts.portalApi.backendPorts)}
  server {
    listen 127.0.0.1:${opts.portalApi.port};
    client_max_body_size ${opts.maxBodySize};
    location / {
      ${proxy('portal_api')}
      # A process that died (SIGKILL, OOM) refuses connections: the request goes to the next one.
      proxy_next_upstream error timeout;
    }
    # The live stream (Server-Sent Events): every event is passed on as it comes, and a stream may
    # stay open for hours.
    location /v1/events {
      ${proxy('portal_api')}
      proxy_next_upstream error timeout;
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 24h;
    }
  }
`
    : '';
  return `# Generated by scripts/stack/nginxServer.ts for one run of the scale profile.
${userInfo().uid === 0 ? '# Run by root for a local stack only: worker processes stay root so they can use the private data directory.\nuser root;\n' : ''}worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${logPath} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host $http_host;
  proxy_set_header X-Forwarded-For $remote_addr;
  proxy_set_header X-Forwarded-Proto $scheme;
  # Long polls: /sync waits up to its timeout, the appservice's calls may wait on Synapse.
  proxy_read_timeout 120s;
  proxy_request_buffering off;
${upstream('synapse_main', [opts.synapse.mainPort])}
${upstream('synapse_client_workers', opts.synapse.workerPorts)}
  server {
    listen 127.0.0.1:${opts.synapse.port};
    client_max_body_size ${opts.maxBodySize};
${SYNAPSE_WORKER_PATHS.map((re) => `    location ~ ${re} { ${proxy('synapse_client_workers')} }\n`).join('')}    location / { ${proxy('synapse_main')} }
  }
${portal}}
`;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
