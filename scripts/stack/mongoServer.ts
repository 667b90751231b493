import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { cacheDir, PROJECT_ROOT } from './cacheDir';
import { freePort } from './freePort';
import { runInstallScript, startProcess, tail, waitFor } from './childProcess';

export interface MongoHandle {
  uri: string;
  kind: 'external' | 'mongodb-memory-server' | 'ferretdb';
  stop(): Promise<void>;
}

const MEMORY_SERVER_UNAVAILABLE = () => join(cacheDir(), 'mongodb-memory-server.unavailable');
const RETRY_DOWNLOAD_AFTER_MS = 24 * 3600 * 1000;

/**
 * The MongoDB the local stack uses: MONGODB_URI when set; otherwise mongodb-memory-server (the
 * embedded default, which downloads mongod); where that download is impossible (machines without
 * internet), FerretDB on SQLite, built from the Go module proxy. A failed download is remembered
 * for a day so later starts go straight to FerretDB.
 */
export async function startMongo(opts: { dataDir: string; database: string; externalUri?: string }): Promise<MongoHandle> {
  if (opts.externalUri) return { uri: opts.externalUri, kind: 'external', stop: async () => undefined };
  mkdirSync(cacheDir(), { recursive: true });
  if (!recentlyUnavailable()) {
    const { MongoMemoryServer, errors } = await import('mongodb-memory-server');
    try {
      // On failure the library console.warn()s the whole error with its stack; one line from us is enough.
      const warn = console.warn;
      console.warn = () => undefined;
      const server = await MongoMemoryServer.create({ instance: { ip: '127.0.0.1' } }).finally(() => {
        console.warn = warn;
      });
      return { uri: server.getUri(opts.database), kind: 'mongodb-memory-server', stop: async () => void (await server.stop()) };
    } catch (err) {
      // A DownloadError's message is "Download failed for url ..., Details:\n<cause>"; `msg` is the cause.
      const download = err instanceof errors.DownloadError;
      const reason = download ? err.msg : (err as Error).message.split('\n')[0];
      const what = download ? 'mongod cannot be downloaded here' : 'mongodb-memory-server did not start';
      console.warn(`${what} (${reason}); using FerretDB (built from the Go module proxy)`);
      writeFileSync(MEMORY_SERVER_UNAVAILABLE(), `${Date.now()} ${what}: ${reason}\n`);
    }
  }
  return startFerretDb(opts);
}

function recentlyUnavailable(): boolean {
  const marker = MEMORY_SERVER_UNAVAILABLE();
  if (!existsSync(marker)) return false;
  const at = Number(readFileSync(marker, 'utf8').split(' ')[0]);
  return Date.now() - at < RETRY_DOWNLOAD_AFTER_MS;
}

export async function startFerretDb(opts: { dataDir: string; database: string }): Promise<MongoHandle> {
  const binary = runInstallScript(join(PROJECT_ROOT, 'scripts', 'install-ferretdb.sh'));
  const dir = join(opts.dataDir, 'ferretdb');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const logPath = join(opts.dataDir, 'ferretdb.log');
  // GOGC=400: FerretDB's live heap is small (tens of MB), so collecting four times less often
  // costs little memory and about a tenth of its CPU in the ingest (B2: 742 → 675 ticks, 74 MB peak).
  const proc = startProcess(binary, ['-listen-addr', `127.0.0.1:${port}`, '-sqlite-dir', dir], { logPath, env: { ...process.env, GOGC: '400' } });
  const uri = `mongodb://127.0.0.1:${port}/${opts.database}`;
  await waitFor(
    `FerretDB on 127.0.0.1:${port}`,
    async () => {
      const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500 });
      try {
        await client.db('admin').command({ ping: 1 });
        return true;
      } finally {
        await client.close();
      }
    },
    30000,
    () => tail(logPath),
  );
  return { uri, kind: 'ferretdb', stop: () => proc.stop() };
}
