import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './cacheDir';
import { freePort } from './freePort';
import { runInstallScript, startProcess, tail, waitFor, type ManagedProcess } from './childProcess';

export interface MailpitHandle {
  /** Where the services send mail (SMTP_URL). */
  smtpUrl: string;
  /** Mailpit's web UI and HTTP API (`/api/v1/messages`); null for an external SMTP server. */
  webUrl: string | null;
  kind: 'external' | 'local';
  /** Stops and starts the same server on the same ports and mailbox (fault tests); `whileDown` runs while it is gone. */
  restart(downMs?: number, opts?: { kill?: boolean; whileDown?: () => Promise<unknown> }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * SMTP_URL when set (the operator's mail server; nothing local is started); otherwise Mailpit of
 * our own on free loopback ports (SMTP and the web UI/API), its mailbox in the run's data
 * directory so a restart keeps what arrived.
 */
export async function startMailpit(opts: { dataDir: string; externalSmtpUrl?: string }): Promise<MailpitHandle> {
  if (opts.externalSmtpUrl) {
    return { smtpUrl: opts.externalSmtpUrl, webUrl: null, kind: 'external', restart: async () => { throw new Error('cannot restart an external SMTP server'); }, stop: async () => undefined };
  }
  const binary = runInstallScript(join(PROJECT_ROOT, 'scripts', 'install-mailpit.sh'));
  const dir = join(opts.dataDir, 'mailpit');
  mkdirSync(dir, { recursive: true });
  const [smtpPort, httpPort] = await Promise.all([freePort(), freePort()]);
  const smtpUrl = `smtp://127.0.0.1:${smtpPort}`;
  const webUrl = `http://127.0.0.1:${httpPort}`;
  const logPath = join(opts.dataDir, 'mailpit.log');
  const args = [
    '--smtp', `127.0.0.1:${smtpPort}`,
    '--listen', `127.0.0.1:${httpPort}`,
    '--database', join(dir, 'mailpit.db'),
    '--smtp-auth-accept-any', '--smtp-auth-allow-insecure',
    '--disable-version-check',
    // Tests and the demo read every message: keep far more than one run sends.
    '--max', '100000',
  ];
  const launch = async (): Promise<ManagedProcess> => {
    const proc = startProcess(binary, args, { logPath });
    await waitFor(
      `Mailpit on ${webUrl}`,
      async () => {
        const res = await fetch(`${webUrl}/api/v1/info`).catch(() => null);
        return res?.ok === true;
      },
      20000,
      () => tail(logPath),
    );
    return proc;
  };
  let proc = await launch();
  return {
    smtpUrl,
    webUrl,
    kind: 'local',
    async restart(downMs = 500, restartOpts = {}) {
      await (restartOpts.kill ? proc.kill() : proc.stop());
      await Promise.all([new Promise((r) => setTimeout(r, downMs)), restartOpts.whileDown?.()]);
      proc = await launch();
    },
    stop: () => proc.stop(),
  };
}
