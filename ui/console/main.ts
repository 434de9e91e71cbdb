// The ssehub web console (served at /ui/, docs/console.md). Plain DOM, no framework. Every piece
// of data comes through token-guarded endpoints: the console's own API (/ui/api/…) and the hub's
// (subscriptions API, subscription events, publish), with the operator's token sent as
// `Authorization: Bearer` (fetch, and the ssehub client for streams: EventSource sends no headers).
import { parseLinkHeader, publish, SseHubHttpError, subscribe } from '../../src/client/index.js';
import { type Chart, createChart } from './chart.js';
import { subscriptionsPath } from './hub-paths.js';
import { decodeToken } from './token.js';

const STORAGE_KEY = 'ssehub-console-token';
const API = new URL('api/', location.href);
const POLL_MS = 1000;
const MAX_EVENTS = 200;

// The server's own type: a type-only import, erased from the bundle.
import type { Sample } from '../../src/server/console/sampler.js';

interface StatsAnswer {
  hubPath: string;
  subscriptions: boolean;
  subscriptionsTopic: string;
  totals: { published: number; deliveries: number; cutOffs: number };
  samples: Sample[];
}

interface Refusal {
  status: number;
  code?: string;
  message?: string;
}

/** A subscription document of either shape: current (`subscription`) or draft 07 (`Subscription`). */
interface SubscriptionDoc {
  id: string;
  type: string;
  match_type?: string;
  match?: string;
  topic?: string;
  subscriber: string;
  active: boolean;
}

/** One subscription as listed: a subscriber's selector, whichever shape announced it. */
interface Listed {
  subscriber: string;
  kind: 'urlpattern' | 'topic';
  selector: string;
}

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el;
}
const input = (id: string) => $(id) as HTMLInputElement;

let token = sessionStorage.getItem(STORAGE_KEY) ?? '';
let hubPath = '/.well-known/mercure';
const authHeaders = (): Record<string, string> =>
  token === '' ? {} : { authorization: `Bearer ${token}` };

// --- session -------------------------------------------------------------------------------

function setSession(state: 'in' | 'out' | 'refused', text: string): void {
  const el = $('session');
  el.dataset.state = state;
  el.textContent = text;
}

function showRefusal(sectionId: string, refusal: Refusal | undefined): void {
  const section = $(sectionId);
  const p = section.querySelector<HTMLElement>('.refusal');
  if (!p) return;
  if (refusal === undefined) {
    section.dataset.state = 'ok';
    p.hidden = true;
    return;
  }
  section.dataset.state = 'refused';
  p.hidden = false;
  p.textContent = `refused (${refusal.status}${refusal.code ? ` ${refusal.code}` : ''}): ${
    refusal.message ?? 'no access'
  }`;
}

async function refusalOf(res: Response): Promise<Refusal> {
  try {
    const body = (await res.json()) as Refusal;
    return { status: res.status, code: body.code ?? '', message: body.message ?? '' };
  } catch {
    return { status: res.status, message: res.statusText };
  }
}

function notice(text: string | undefined): void {
  const el = $('notice');
  el.hidden = text === undefined;
  el.textContent = text ?? '';
}

// --- live stats ------------------------------------------------------------------------------

const SERIES: { id: string; title: string; pick: (s: Sample) => number; unit?: 'bytes' }[] = [
  { id: 'publishes', title: 'publishes/s', pick: (s) => s.publishes },
  { id: 'deliveries', title: 'deliveries/s', pick: (s) => s.deliveries },
  { id: 'subscribers', title: 'subscribers', pick: (s) => s.subscribers },
  { id: 'cutoffs', title: 'cut-offs/s', pick: (s) => s.cutOffs },
  { id: 'memory', title: 'memory (RSS)', pick: (s) => s.rss, unit: 'bytes' },
];
const charts = new Map<string, Chart>();
let samples: Sample[] = [];
let pollTimer: number | undefined;
const MAX_SAMPLES = 300;

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

function renderStats(answer: StatsAnswer): void {
  const last = answer.samples.at(-1) ?? samples.at(-1);
  samples = [...samples, ...answer.samples].slice(-MAX_SAMPLES);
  $('count-publishes').textContent = String(answer.totals.published);
  $('count-deliveries').textContent = String(answer.totals.deliveries);
  $('count-cutoffs').textContent = String(answer.totals.cutOffs);
  if (last) {
    $('count-subscribers').textContent = String(last.subscribers);
    $('count-rss').textContent = mib(last.rss);
  }
  for (const series of SERIES) {
    let chart = charts.get(series.id);
    if (!chart) {
      chart = createChart(series.id, series.title);
      charts.set(series.id, chart);
      $('charts').append(chart.element);
    }
    const values = samples.map(series.pick);
    const now = values.at(-1) ?? 0;
    chart.update(values, series.unit === 'bytes' ? mib(now) : String(now));
  }
}

async function pollStats(): Promise<void> {
  const since = samples.at(-1)?.t ?? 0;
  try {
    const res = await fetch(new URL(`stats?since=${since}`, API), { headers: authHeaders() });
    if (!res.ok) {
      const refusal = await refusalOf(res);
      showRefusal('live', refusal);
      if (token !== '') setSession('refused', `refused: ${refusal.code ?? refusal.status}`);
      return;
    }
    const answer = (await res.json()) as StatsAnswer;
    showRefusal('live', undefined);
    setSession('in', 'logged in');
    if (answer.hubPath !== hubPath) hubPath = answer.hubPath;
    notice(
      answer.subscriptions
        ? undefined
        : 'Subscription events are off: start the hub with --subscriptions (SSEHUB_SUBSCRIPTIONS=1) to see the active subscriptions.',
    );
    renderStats(answer);
    if (answer.subscriptions && !subsStarted) void startSubscriptions();
  } catch (err) {
    showRefusal('live', { status: 0, message: (err as Error).message });
  } finally {
    pollTimer = window.setTimeout(() => void pollStats(), POLL_MS);
  }
}

// --- active subscriptions --------------------------------------------------------------------

// Keyed by subscriber and selector: a plain string is announced in both shapes (an `exact`
// matcher and a draft-07 topic) and must count once.
const active = new Map<string, Listed>();
let subsStarted = false;
let subsAbort: AbortController | undefined;

function renderSubscriptions(): void {
  const groups = new Map<string, Listed[]>();
  for (const item of active.values()) {
    const key = `${item.kind} ${item.selector}`;
    const list = groups.get(key) ?? [];
    if (list.length === 0) groups.set(key, list);
    list.push(item);
  }
  const ul = $('subs-list');
  ul.replaceChildren();
  for (const docs of [...groups.values()].sort((a, b) => b.length - a.length)) {
    const first = docs[0] as Listed;
    const li = document.createElement('li');
    li.dataset.match = first.selector;
    const count = document.createElement('span');
    count.className = 'count';
    count.textContent = String(docs.length);
    const k = document.createElement('span');
    k.className = 'kind';
    k.textContent = first.kind === 'urlpattern' ? 'urlpattern' : 'topic';
    const match = document.createElement('span');
    match.className = 'match';
    match.textContent = first.selector;
    const who = document.createElement('ul');
    for (const d of docs) {
      const item = document.createElement('li');
      item.textContent = d.subscriber;
      who.append(item);
    }
    li.append(count, k, match, who);
    ul.append(li);
  }
  $('subs-count').textContent = String(active.size);
}

function applyDoc(doc: SubscriptionDoc): void {
  let listed: Listed;
  if (doc.type === 'subscription' && typeof doc.match === 'string') {
    listed = {
      subscriber: doc.subscriber,
      kind: doc.match_type === 'urlpattern' ? 'urlpattern' : 'topic',
      selector: doc.match,
    };
  } else if (doc.type === 'Subscription' && typeof doc.topic === 'string') {
    listed = { subscriber: doc.subscriber, kind: 'topic', selector: doc.topic };
  } else {
    return;
  }
  const key = `${listed.subscriber}\n${listed.kind}\n${listed.selector}`;
  if (doc.active) active.set(key, listed);
  else active.delete(key);
}

async function list(accept: string): Promise<{ docs: SubscriptionDoc[]; cursor: string }> {
  const res = await fetch(new URL(subscriptionsPath(hubPath), location.href), {
    headers: { ...authHeaders(), accept },
  });
  if (!res.ok) throw await refusalOf(res);
  const body = (await res.json()) as { subscriptions: SubscriptionDoc[]; lastEventID?: string };
  const link = parseLinkHeader(res.headers.get('link') ?? '').find((l) =>
    l.rel.includes('mercure'),
  );
  return {
    docs: body.subscriptions,
    cursor: link?.params['last-event-id'] ?? body.lastEventID ?? '',
  };
}

async function startSubscriptions(): Promise<void> {
  subsStarted = true;
  subsAbort?.abort();
  const abort = new AbortController();
  subsAbort = abort;
  let lastEventId = '';
  try {
    // Both shapes: URL-pattern subscriptions exist only in the current one, templates only in
    // draft 07's. The cursor is the same for both (the store's last id).
    const current = await list('application/json');
    const draft07 = await list('application/ld+json');
    active.clear();
    for (const doc of [...current.docs, ...draft07.docs]) applyDoc(doc);
    lastEventId = current.cursor;
    showRefusal('subscriptions', undefined);
    renderSubscriptions();
  } catch (err) {
    const refusal = err instanceof Error ? { status: 0, message: err.message } : (err as Refusal);
    showRefusal('subscriptions', refusal);
    subsStarted = false;
    return;
  }
  const events = new URL(hubPath, location.href);
  events.searchParams.append(
    'match_urlpattern',
    `${subscriptionsPath(hubPath)}/:match_type/:match/:subscriber`,
  );
  events.searchParams.append('topic', `${subscriptionsPath(hubPath)}/{topic}/{subscriber}`);
  try {
    for await (const event of subscribe(events, {
      headers: authHeaders,
      lastEventId,
      signal: abort.signal,
    })) {
      try {
        applyDoc(JSON.parse(event.data) as SubscriptionDoc);
        renderSubscriptions();
      } catch {
        // Not a subscription document: ignore.
      }
    }
  } catch (err) {
    showRefusal('subscriptions', { status: 0, message: (err as Error).message });
  }
  if (subsAbort === abort) subsStarted = false;
}

// --- publish ---------------------------------------------------------------------------------

async function onPublish(e: SubmitEvent): Promise<void> {
  e.preventDefault();
  const out = $('pub-result');
  const topics = input('pub-topics')
    .value.split('\n')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const retryText = input('pub-retry').value.trim();
  const id = input('pub-id').value.trim();
  const type = input('pub-type').value.trim();
  try {
    const published = await publish(
      new URL(hubPath, location.href),
      {
        topics,
        data: input('pub-data').value,
        private: input('pub-private').checked,
        ...(id !== '' ? { id } : {}),
        ...(type !== '' ? { type } : {}),
        ...(retryText !== '' ? { retry: Number(retryText) } : {}),
      },
      token === '' ? undefined : token,
    );
    out.dataset.state = 'ok';
    out.textContent = `published ${published}`;
  } catch (err) {
    out.dataset.state = 'error';
    out.textContent =
      err instanceof SseHubHttpError
        ? `refused: ${err.httpStatus} ${err.body.trim()}`
        : `failed: ${(err as Error).message}`;
  }
}

// --- subscribe pane --------------------------------------------------------------------------

let paneAbort: AbortController | undefined;

function paneState(state: string, text = state): void {
  const el = $('sub-state');
  el.dataset.state = state;
  el.textContent = text;
}

function addEvent(meta: string, text: string): void {
  const li = document.createElement('li');
  const m = document.createElement('span');
  m.className = 'meta';
  m.textContent = meta;
  li.append(m, document.createTextNode(text));
  const list = $('sub-events');
  list.prepend(li);
  while (list.children.length > MAX_EVENTS) list.lastElementChild?.remove();
}

async function onSubscribe(e: SubmitEvent): Promise<void> {
  e.preventDefault();
  paneAbort?.abort();
  const abort = new AbortController();
  paneAbort = abort;
  const url = new URL(hubPath, location.href);
  url.searchParams.set('topic', input('sub-selector').value.trim() || '*');
  const lastEventId = input('sub-last-id').value.trim();
  paneState('connecting');
  try {
    for await (const event of subscribe(url, {
      headers: authHeaders,
      signal: abort.signal,
      ...(lastEventId !== '' ? { lastEventId } : {}),
      onOpen: () => paneState('open'),
      onError: (err) => paneState('error', `retrying: ${err.message}`),
    })) {
      addEvent(
        `${new Date().toLocaleTimeString()} ${event.type} #${event.lastEventId}`,
        event.data,
      );
    }
    paneState('closed');
  } catch (err) {
    paneState('error', `closed: ${(err as Error).message}`);
  }
}

// --- token helper ----------------------------------------------------------------------------

function pre(text: string): HTMLElement {
  const el = document.createElement('pre');
  el.textContent = text;
  return el;
}

function heading(text: string): HTMLElement {
  const el = document.createElement('h3');
  el.textContent = text;
  return el;
}

async function onInspect(e: SubmitEvent): Promise<void> {
  e.preventDefault();
  const report = $('token-report');
  report.replaceChildren();
  const jwt = input('token-input').value.trim();
  const topic = input('token-topic').value.trim();
  try {
    const d = decodeToken(jwt);
    const exp =
      d.expiresAt === undefined
        ? 'no expiry'
        : `${new Date(d.expiresAt).toISOString()} (${d.expiresAt < Date.now() ? 'expired' : 'valid for'} ${Math.round(Math.abs(d.expiresAt - Date.now()) / 1000)} s${d.expiresAt < Date.now() ? ' ago' : ''})`;
    report.append(
      heading(
        `Decoded (${d.shape === 'current' ? 'authorization_details' : 'draft-07 mercure claim'}; not verified)`,
      ),
      pre(`header: ${JSON.stringify(d.header, null, 2)}`),
      pre(`claims: ${JSON.stringify(d.payload, null, 2)}`),
      heading('Grants'),
      pre(
        `publish:   ${d.publish.join('  ') || '(none)'}\nsubscribe: ${d.subscribe.join('  ') || '(none)'}\nexpires:   ${exp}`,
      ),
    );
  } catch (err) {
    report.append(heading('Not decoded'), pre((err as Error).message));
  }
  report.append(heading('What the hub says'));
  try {
    const res = await fetch(new URL('check-token', API), {
      method: 'POST',
      headers: { ...authHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify(topic === '' ? { token: jwt } : { token: jwt, topic }),
    });
    if (!res.ok) {
      const r = await refusalOf(res);
      report.append(
        pre(`the check itself was refused (${r.status} ${r.code ?? ''}): ${r.message ?? ''}`),
      );
      return;
    }
    const answer = (await res.json()) as Record<
      'publisher' | 'subscriber',
      { ok: boolean; status?: number; code?: string; message?: string; matches?: boolean }
    > & { console: boolean };
    for (const role of ['publisher', 'subscriber'] as const) {
      const v = answer[role];
      const line = document.createElement('p');
      line.className = 'verdict';
      line.dataset.role = role;
      line.dataset.ok = String(v.ok);
      line.textContent = v.ok
        ? `${role}: accepted${v.matches === undefined ? '' : v.matches ? `, may ${role === 'publisher' ? 'publish to' : 'subscribe to'} ${topic}` : `, but refused 403 FORBIDDEN for ${topic} (no grant matches)`}`
        : `${role}: refused ${v.status} ${v.code}: ${v.message}`;
      report.append(line);
    }
    const c = document.createElement('p');
    c.className = 'verdict';
    c.dataset.ok = String(answer.console);
    c.textContent = answer.console ? 'console: access granted' : 'console: no access';
    report.append(c);
  } catch (err) {
    report.append(pre((err as Error).message));
  }
}

// --- start -----------------------------------------------------------------------------------

function restart(): void {
  if (pollTimer !== undefined) window.clearTimeout(pollTimer);
  subsAbort?.abort();
  subsStarted = false;
  active.clear();
  renderSubscriptions();
  samples = [];
  void pollStats();
  if (token === '') {
    setSession('out', 'not logged in');
    // Shows the hub's own refusal for the list, as for the stats.
    void startSubscriptions();
  }
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  token = input('login-token').value.trim();
  input('login-token').value = '';
  if (token === '') sessionStorage.removeItem(STORAGE_KEY);
  else sessionStorage.setItem(STORAGE_KEY, token);
  restart();
});
$('logout-button').addEventListener('click', () => {
  token = '';
  sessionStorage.removeItem(STORAGE_KEY);
  paneAbort?.abort();
  restart();
});
$('publish-form').addEventListener('submit', (e) => void onPublish(e as SubmitEvent));
$('subscribe-form').addEventListener('submit', (e) => void onSubscribe(e as SubmitEvent));
$('sub-close').addEventListener('click', () => {
  paneAbort?.abort();
  paneState('closed');
});
$('token-form').addEventListener('submit', (e) => void onInspect(e as SubmitEvent));
restart();
