/**
 * B7's load generator: a process of its own (so the API process's CPU and memory figures are the
 * server's), holding many event streams on raw node:http sockets (no agent, no EventSource
 * layer). It parses only what it must: the event type, and for `message.created` the sequence
 * number in the benchmark's message body; the rest of a frame is skipped unparsed. Arrival times
 * are wall-clock milliseconds (performance.timeOrigin + now), comparable with the parent's.
 *
 * Protocol (IPC): parent sends {op:'open', url, people:[{who, token, streams}], lanes}; the child
 * answers {op:'opened', streams, failures}. {op:'collect'} answers {op:'arrivals', who:[...],
 * arrivals:[[stream, k, at], ...]} and forgets them. {op:'close'} ends every stream and exits.
 */
import http from 'node:http';

interface OpenRequest {
  op: 'open';
  url: string;
  people: Array<{ who: string; token: string; streams: number }>;
  lanes: number;
}

const BODY_NUMBER = /"body":"b7 (\d+) /;
const who: string[] = [];
const requests: http.ClientRequest[] = [];
let arrivals: Array<[number, number, number]> = [];

const now = () => performance.timeOrigin + performance.now();

function openOne(url: string, token: string, index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`stream answered ${res.statusCode}`));
      }
      res.setEncoding('utf8');
      let pending = '';
      res.on('data', (chunk: string) => {
        const at = now();
        pending += chunk;
        let end = pending.indexOf('\n\n');
        while (end >= 0) {
          const frame = pending.slice(0, end);
          pending = pending.slice(end + 2);
          end = pending.indexOf('\n\n');
          if (!frame.includes('\nevent: message.created\n')) continue;
          const m = BODY_NUMBER.exec(frame);
          if (m) arrivals.push([index, Number(m[1]), at]);
        }
        if (pending.length === 0) return;
      });
      res.on('error', () => undefined);
      resolve();
    });
    req.on('error', reject);
    requests.push(req);
  });
}

async function open(msg: OpenRequest): Promise<void> {
  const url = new URL('/v1/events', msg.url).toString();
  const slots = msg.people.flatMap((p) => Array.from({ length: p.streams }, () => p));
  let next = 0;
  let failures = 0;
  let firstError = '';
  const lane = async () => {
    for (let i = next++; i < slots.length; i = next++) {
      const p = slots[i]!;
      const index = who.length;
      who.push(p.who);
      await openOne(url, p.token, index).catch((err: Error) => {
        failures++;
        firstError ||= err.message;
      });
    }
  };
  await Promise.all(Array.from({ length: msg.lanes }, lane));
  process.send!({ op: 'opened', streams: who.length - failures, failures, firstError });
}

process.on('message', (msg: { op: string }) => {
  if (msg.op === 'open') void open(msg as OpenRequest);
  else if (msg.op === 'collect') {
    process.send!({ op: 'arrivals', who, arrivals });
    arrivals = [];
  } else if (msg.op === 'close') {
    for (const r of requests) r.destroy();
    process.exit(0);
  }
});
