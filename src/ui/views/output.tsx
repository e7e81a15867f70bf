// A file's text that keeps growing while its task (or start task) runs: the
// length by HEAD (File_GetProperties), then only the new bytes by ocp-range,
// every POLL_MS while `following`; one last read once it stops.

import { useEffect, useRef, useState } from 'preact/hooks';
import { fileLength, fileText } from '../api';
import { messageOf } from '../components';

const POLL_MS = 1000;
/** What the page keeps of one file: its last bytes. */
const KEPT_CHARS = 200_000;

export function LiveOutput({ path, title, following }: { path: string; title: string; following: boolean }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string>();
  const offset = useRef(0);
  useEffect(() => {
    offset.current = 0;
    setText('');
  }, [path]);
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const read = async () => {
      try {
        const length = await fileLength(path);
        if (length !== undefined && length > offset.current) {
          const more = await fileText(path, offset.current);
          offset.current = length;
          setText((previous) => (previous + more).slice(-KEPT_CHARS));
        }
        setError(undefined);
      } catch (failure) {
        setError(messageOf(failure));
      }
      if (following && !stopped) timer = window.setTimeout(read, POLL_MS);
    };
    void read();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [path, following]);
  return (
    <div class="output">
      <h3>
        {title} {following ? <span class="live-badge">live</span> : null}
      </h3>
      <pre data-file={title}>{text || (error ? '' : '(empty)')}</pre>
      {error && !text ? <p class="muted">{error}</p> : null}
    </div>
  );
}
