import { Icon } from './Icon';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/**
 * A modal dialog on the native <dialog> element: showModal() keeps focus inside and Escape closes
 * it; focus goes back to what had it before.
 */
export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; describedBy?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current!;
    const root = dialog.getRootNode() as Document | ShadowRoot;
    const before = root.activeElement as HTMLElement | null;
    dialog.showModal();
    const first = dialog.querySelector<HTMLElement>('[autofocus], input, textarea, select, button:not(.cwc-dialog-close)');
    first?.focus();
    return () => before?.focus?.();
  }, []);
  return (
    <dialog
      ref={ref}
      class="cwc-dialog"
      aria-labelledby="cwc-dialog-title"
      aria-describedby={props.describedBy}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <div class="cwc-dialog-head">
        <h2 id="cwc-dialog-title">{props.title}</h2>
        <button type="button" class="cwc-icon-button cwc-dialog-close" aria-label="Close" onClick={props.onClose}>
          <Icon name="close" />
        </button>
      </div>
      {props.children}
    </dialog>
  );
}
