import { Icon } from './Icon';
import { useEffect, useState } from 'preact/hooks';
import { useClient } from '../context';
import { formatBytes } from '../errors';
import type { Message } from '../chatStore';

/** Attachments are fetched with the bearer token (participants only) and shown from blob: URLs. */
async function fetchMedia(store: ReturnType<typeof useClient>['store'], chatId: string, mediaId: string): Promise<Blob> {
  const { data, response } = await store.api.GET('/v1/chats/{chatId}/media/{mediaId}', { params: { path: { chatId, mediaId } }, parseAs: 'blob' });
  if (!response.ok || !data) throw new Error(`download failed (${response.status})`);
  return data as Blob;
}

export function MediaAttachment(props: { message: Message }) {
  const { store } = useClient();
  const { message } = props;
  const attachment = message.attachment!;
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const isImage = message.type === 'image' || attachment.mimeType?.startsWith('image/');

  useEffect(() => {
    if (!isImage) return;
    let objectUrl: string | null = null;
    let cancelled = false;
    fetchMedia(store, message.chatId, attachment.mediaId)
      .then((blob) => {
        if (cancelled) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      })
      .catch(() => setError('The preview could not be loaded.'));
    return () => {
      cancelled = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [attachment.mediaId]);

  const download = async () => {
    try {
      const blob = await fetchMedia(store, message.chatId, attachment.mediaId);
      const href = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = href;
      a.download = attachment.name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(href), 10000);
    } catch {
      setError('The file could not be downloaded.');
    }
  };

  return (
    <div class="cwc-attachment">
      {isImage && url && <img class="cwc-image-preview" src={url} alt={attachment.name} />}
      <button type="button" class="cwc-file" onClick={download}>
        <Icon name="file" /> <span class="cwc-file-name">{attachment.name}</span>
        {attachment.size !== undefined && <span class="cwc-muted"> · {formatBytes(attachment.size)}</span>}
        <span class="visually-hidden"> (download)</span>
      </button>
      {error && <p class="cwc-error">{error}</p>}
    </div>
  );
}
