import type { IncomingMessage } from 'node:http';
import { basename } from 'node:path';
import busboy from 'busboy';
import { InvalidRequestError, PayloadTooLargeError } from '../runtime';

export interface AttachmentUpload {
  txnId: string | undefined;
  name: string;
  data: Buffer;
}

const MAX_NAME_LENGTH = 255;

/**
 * Reads a multipart/form-data attachment (field `file`, plus `txnId`) as it streams in. The file
 * is held in memory up to `maxBytes` and no further: past the limit busboy drops the remaining
 * bytes, the request is drained without keeping them, and the answer is 413.
 */
export function readAttachmentUpload(req: IncomingMessage, maxBytes: number): Promise<AttachmentUpload> {
  if (!/^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '')) {
    return Promise.reject(new InvalidRequestError('file', 'send multipart/form-data with a file field'));
  }
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // One byte past the limit is enough to know the file is too large; busboy drops the rest.
        limits: { files: 1, fileSize: maxBytes + 1, fields: 4, fieldSize: 1024, parts: 8 },
      });
    } catch {
      reject(new InvalidRequestError('file', 'send multipart/form-data with a file field'));
      return;
    }
    let txnId: string | undefined;
    let file: { name: string; chunks: Buffer[] } | null = null;
    let tooLarge = false;
    parser.on('field', (name, value) => {
      if (name === 'txnId') txnId = value;
    });
    parser.on('file', (field, stream, info) => {
      if (field !== 'file' || file) {
        stream.resume();
        return;
      }
      const current = { name: cleanName(info.filename), chunks: [] as Buffer[] };
      file = current;
      let received = 0;
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) {
          tooLarge = true;
          current.chunks = [];
        } else {
          current.chunks.push(chunk);
        }
      });
    });
    parser.on('error', () => reject(new InvalidRequestError('file', 'the multipart body is malformed or incomplete')));
    parser.on('close', () => {
      if (tooLarge) return reject(new PayloadTooLargeError(maxBytes));
      if (!file) return reject(new InvalidRequestError('file', 'required'));
      const data = Buffer.concat(file.chunks);
      if (data.length === 0) return reject(new InvalidRequestError('file', 'is empty'));
      resolve({ txnId, name: file.name, data });
    });
    req.on('aborted', () => reject(new InvalidRequestError('file', 'the upload was interrupted')));
    req.pipe(parser);
  });
}

/** The name shown to participants: no path, no control characters, bounded length. */
function cleanName(filename: string | undefined): string {
  const name = basename((filename ?? '').replace(/\\/g, '/'))
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, MAX_NAME_LENGTH);
  return name || 'attachment';
}
