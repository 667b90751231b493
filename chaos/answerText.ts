/** A response's body as text; an event stream (which never ends by itself) is closed unread. */
export async function answerText(res: Response): Promise<string> {
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    await res.body?.cancel();
    return '';
  }
  return res.text();
}
