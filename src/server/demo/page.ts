// The demo page as a TS module, so `npm run build` ships it without copying static files.

export interface DemoPageOptions {
  /** URL of the event stream, relative to the page. Default `events`. */
  streamUrl?: string;
  /** When the stream comes through a Mercure hub: the topic, shown on the page. */
  topic?: string;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// JSON is valid JavaScript; escaping `<` keeps a `</script>` inside the value from ending the tag.
function scriptLiteral(value: string): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * The demo page: the browser's own EventSource listening for `open`, `message`, `currentTime` and
 * `error`, showing each as a timestamped log line and the latest currentTime in large type.
 */
export function demoPage(options: DemoPageOptions = {}): string {
  const streamUrl = options.streamUrl ?? 'events';
  const via = options.topic
    ? ` It subscribes through the Mercure hub to <code>${escapeHtml(options.topic)}</code>.`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ssehub · Server-Sent Events demo</title>
<style>
  :root { color-scheme: light dark; --accent: #2563eb; --muted: #6b7280; }
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
  p { margin: 0 0 1.5rem; color: var(--muted); }
  #status { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; font-size: .85rem;
    background: var(--muted); color: #fff; }
  #status[data-state="open"] { background: #16a34a; }
  #status[data-state="error"] { background: #dc2626; }
  #now { font: 600 clamp(1.6rem, 6vw, 3rem)/1.2 ui-monospace, monospace; margin: 1rem 0;
    color: var(--accent); word-break: break-all; }
  #log { list-style: none; margin: 0; padding: 0; font: .9rem/1.6 ui-monospace, monospace;
    max-height: 50vh; overflow-y: auto; border-top: 1px solid #8884; }
  #log li { border-bottom: 1px solid #8882; padding: .15rem 0; }
  #log time { color: var(--muted); margin-right: .5rem; }
  #log .kind { font-weight: 600; margin-right: .5rem; }
  #log [data-kind="open"] .kind { color: #16a34a; }
  #log [data-kind="error"] .kind { color: #dc2626; }
  #log [data-kind="currentTime"] .kind { color: var(--accent); }
</style>
</head>
<body>
<h1>Server-Sent Events demo</h1>
<p>An <code>EventSource</code> in this page listens to the server.${via} <span id="status" data-state="connecting">connecting</span></p>
<div id="now" aria-live="polite">–</div>
<ul id="log"></ul>
<script>
(() => {
  const log = document.getElementById('log');
  const now = document.getElementById('now');
  const status = document.getElementById('status');
  const MAX_LINES = 200;

  function setStatus(state) {
    status.dataset.state = state;
    status.textContent = state;
  }

  function add(kind, text) {
    const li = document.createElement('li');
    li.dataset.kind = kind;
    const time = document.createElement('time');
    const at = new Date();
    time.dateTime = at.toISOString();
    time.textContent = at.toLocaleTimeString();
    const label = document.createElement('span');
    label.className = 'kind';
    label.textContent = kind;
    li.append(time, label, document.createTextNode(text));
    log.prepend(li);
    while (log.children.length > MAX_LINES) log.lastElementChild.remove();
  }

  const source = new EventSource(${scriptLiteral(streamUrl)});
  source.addEventListener('open', () => {
    setStatus('open');
    add('open', 'connected');
  });
  source.addEventListener('message', (event) => {
    add('message', event.data);
  });
  source.addEventListener('currentTime', (event) => {
    now.textContent = event.data;
    add('currentTime', event.data + ' (id ' + event.lastEventId + ')');
  });
  source.addEventListener('error', () => {
    const closed = source.readyState === EventSource.CLOSED;
    setStatus(closed ? 'closed' : 'error');
    add('error', closed ? 'connection closed' : 'connection lost, reconnecting');
  });
})();
</script>
</body>
</html>
`;
}
