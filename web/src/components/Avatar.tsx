import { initials } from '../names';

export function Avatar(props: { name: string }) {
  let hue = 0;
  for (const ch of props.name) hue = (hue * 31 + ch.charCodeAt(0)) % 360;
  return (
    <span class="cwc-avatar" aria-hidden="true" data-hue={Math.floor(hue / 45)}>
      {initials(props.name) || '?'}
    </span>
  );
}
