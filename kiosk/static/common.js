// What the three pages share: the WebSocket session (msgpack frames, hello, whose welcome
// carries the whole view; reconnect with backoff), the server clock, timers, grade names and
// small DOM helpers.
// The msgpack codec is the npm package's browser build, loaded before this module as
// /static/vendor/msgpack.min.js (global `MessagePack`).

export const DEFAULT_GRADES = ["好", "较好", "一般", "差"];
export const PHASES = { report: "述职", comment: "点评", written: "书面述职", vote: "投票", speech: "讲话" };
export const OFFLINE = "网络已断开，正在重连…";
export const UNAVAILABLE = "系统暂不可用，正在重连";

// ---- where this meeting lives --------------------------------------------------------------

// One deployment may host many meetings (`pingyi serve --meetings`), each under /m/<id>: every
// path a page asks for (the API, the socket, the other pages) is then under that prefix; the
// files in /static are shared. A single meeting has no prefix.
export const BASE = (location.pathname.match(/^\/m\/[a-z0-9-]+(?=\/)/) || [""])[0];

export function at(path) {
  return path.startsWith("/") ? BASE + path : path;
}

// The pages' own links ("/after", "/screen" ...) written as for a single meeting.
for (const link of document.querySelectorAll('a[href^="/"]')) {
  const href = link.getAttribute("href");
  if (!href.startsWith("/static/")) link.setAttribute("href", at(href));
}

// ---- the server clock ----------------------------------------------------------------------

let clockOffset = 0; // server seconds minus this device's seconds

export function noteServerNow(now) {
  if (typeof now === "number") clockOffset = now - Date.now() / 1000;
}

export function serverNow() {
  return Date.now() / 1000 + clockOffset;
}

// elapsed = (paused_at or now) - started_at - paused_total, as docs/protocol.md says
export function elapsed(timer) {
  if (!timer || timer.started_at == null) return null;
  const end = timer.paused_at != null ? timer.paused_at : serverNow();
  return Math.max(0, end - timer.started_at - (timer.paused_total || 0));
}

export function mmss(seconds) {
  if (seconds == null) return "00:00";
  const s = Math.floor(seconds);
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

// The step's clock: with a time budget ([agenda] in the meeting file) the time left, and once
// it is used up the overtime, +mm:ss in red; without one, the time spent.
export function stepClock(timer, budget) {
  const spent = elapsed(timer);
  if (budget == null || spent == null) return { text: mmss(spent), over: false, label: "" };
  const left = budget - spent;
  if (left >= 0) return { text: mmss(Math.ceil(left)), over: false, label: `剩余时间（限时 ${mmss(budget)}）` };
  return { text: `+${mmss(-left)}`, over: true, label: `已超时（限时 ${mmss(budget)}）` };
}

// ---- the WebSocket session -----------------------------------------------------------------

// connect({hello: () => map, onMessage(msg), onStatus(state, detail)}) -> session
// states: "connecting", "online", "offline", "unavailable", "refused" (hello failed: 1008)
export function connect({ hello, onMessage, onStatus }) {
  const { encode, decode } = globalThis.MessagePack;
  const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${BASE}/ws`;
  let ws = null;
  let attempt = 0;
  let lastSeen = 0;
  let stopped = false;
  let retryTimer = null;
  let pingTimer = null;
  let nextId = 1;
  const waiting = new Map(); // request id -> callback for the reply carrying that id
  const session = {
    v: null,
    ready: false,
    send(msg, onReply) {
      if (!session.ready) return false;
      const id = nextId++;
      if (onReply) waiting.set(id, onReply);
      ws.send(encode({ ...msg, id }));
      return true;
    },
    close() {
      stopped = true;
      clearTimeout(retryTimer);
      if (ws) ws.close();
    },
  };

  function status(state, detail) {
    if (onStatus) onStatus(state, detail);
  }

  function open() {
    status(attempt ? "offline" : "connecting");
    ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      ws.send(encode(hello()));
    };
    ws.onmessage = (event) => {
      if (typeof event.data === "string") return;
      let msg;
      try {
        msg = decode(new Uint8Array(event.data));
      } catch {
        return;
      }
      if (!msg || typeof msg !== "object") return;
      lastSeen = Date.now();
      if ("now" in msg) noteServerNow(msg.now);
      if (msg.view && msg.view.meeting) markRehearsal(msg.view.meeting.rehearsal);
      if (typeof msg.v === "number" && (msg.t === "welcome" || msg.t === "view")) session.v = msg.v;
      if (msg.t === "welcome") {
        attempt = 0;
        session.ready = true;
        status("online");
      } else if (msg.t === "status") {
        status(msg.redis ? "online" : "unavailable");
      }
      if (msg.id != null && waiting.has(msg.id)) {
        const reply = waiting.get(msg.id);
        waiting.delete(msg.id);
        reply(msg);
      }
      onMessage(msg);
    };
    ws.onclose = (event) => {
      session.ready = false;
      waiting.clear();
      clearInterval(pingTimer);
      if (stopped) return;
      if (event.code === 1008) {
        stopped = true;
        status("refused", event.reason || "");
        return;
      }
      status("offline");
      attempt += 1;
      const base = Math.min(10000, 500 * 2 ** (attempt - 1));
      retryTimer = setTimeout(open, base * (0.5 + Math.random() * 0.5));
    };
    lastSeen = Date.now();
    clearInterval(pingTimer);
    // A connection that has heard nothing for 40 s is treated as dead and reopened.
    pingTimer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (Date.now() - lastSeen > 40000) ws.close();
      else if (session.ready) ws.send(encode({ t: "ping" }));
    }, 15000);
  }

  // The browser knows first when the network goes: say so at once, and come back as soon as
  // it returns instead of waiting out the backoff (phones also wake from sleep this way).
  window.addEventListener("offline", () => {
    if (ws && !stopped) ws.close();
  });
  window.addEventListener("online", () => {
    if (!session.ready && !stopped) {
      clearTimeout(retryTimer);
      if (!ws || ws.readyState === WebSocket.CLOSED) open();
    }
  });
  open();
  return session;
}

// The banner every page shows while it is not connected.
export function showNetStatus(banner, state) {
  const text = { offline: OFFLINE, unavailable: UNAVAILABLE, connecting: "正在连接…" }[state];
  banner.textContent = text || "";
  banner.hidden = !text;
  banner.dataset.state = state;
}

// ---- 演练: a rehearsal server (pingyi serve --rehearsal) -------------------------------------

// Every page of a rehearsal says so at its top, in one banner: from its views' header
// (`meeting.rehearsal`) and, for a page that has no view (the join and 会后 pages), from the
// X-Pingyi-Rehearsal header every answer of a rehearsal server carries (docs/pages.md).
export const REHEARSAL = "演练 · 模拟测评，不计入正式结果";

export function markRehearsal(on) {
  if (!on || document.getElementById("rehearsal")) return;
  const banner = h("p.rehearsal", { id: "rehearsal", role: "note" }, REHEARSAL);
  document.body.prepend(banner);
  document.documentElement.dataset.rehearsal = "true";
}

// The page's own address, asked again without its body: every page has one, setup mode too.
fetch(location.pathname, { method: "HEAD", cache: "no-store" })
  .then((response) => markRehearsal(response.headers.get("X-Pingyi-Rehearsal") === "1"))
  .catch(() => {}); // offline: the first view says it

// ---- ids ------------------------------------------------------------------------------------

// A key handed over in the address (?key=, from a printed link or the chair console) moves to
// sessionStorage at once, so the address bar (often on a projector) no longer shows it.
export function takeKeyFromUrl(storeName) {
  const url = new URL(location.href);
  const key = url.searchParams.get("key");
  if (key) {
    sessionStorage.setItem(storeName, key);
    url.searchParams.delete("key");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(storeName);
}

// the chair console and the 会后 page; one per meeting where a deployment hosts many
export const CHAIR_KEY_STORE = `pingyi:chair-key${BASE}`;

// A key's form (#login, #key, #login-error) shown in place of `page`: returns ask(message),
// which shows it; a key typed in goes to sessionStorage (under `store`: the chair key's unless
// told, as the admin and unit pages do) and to onKey(key).
export function keyForm(ui, page, onKey, store = CHAIR_KEY_STORE) {
  ui.login.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = ui.key.value.trim();
    if (!key) return;
    sessionStorage.setItem(store, key);
    onKey(key);
  });
  return (message) => {
    show(page, false);
    show(ui.login, true);
    show(ui["login-error"], Boolean(message));
    setText(ui["login-error"], message || "");
    ui.key.focus();
  };
}

export function randomHex(bytes = 16) {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(raw, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- DOM helpers ----------------------------------------------------------------------------

export function $(selector, root = document) {
  return root.querySelector(selector);
}

// h("div.card", {dataset: {id: 1}}, "text", child) -> element
export function h(tag, props, ...children) {
  const [name, ...classes] = tag.split(".");
  const node = document.createElement(name);
  if (classes.length) node.className = classes.join(" ");
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function setText(node, text) {
  const value = text == null ? "" : String(text);
  if (node.textContent !== value) node.textContent = value;
}

// Keeps container's children in step with items without rebuilding them: one child per key,
// created once by make(item), refreshed by update(node, item), in the items' order.
export function syncList(container, items, key, make, update) {
  const existing = new Map();
  for (const child of container.children) existing.set(child.dataset.key, child);
  let previous = null;
  for (const item of items) {
    const k = String(key(item));
    let node = existing.get(k);
    if (node) existing.delete(k);
    else {
      node = make(item);
      node.dataset.key = k;
    }
    update(node, item);
    const wanted = previous ? previous.nextSibling : container.firstChild;
    if (wanted !== node) container.insertBefore(node, wanted);
    previous = node;
  }
  for (const node of existing.values()) node.remove();
}

// Turnout per voter group (实到/应到) as bars, kept in place: the projector and the console.
export function syncTurnoutBars(container, groups) {
  syncList(
    container,
    groups || [],
    (g) => g.id,
    () => h("li", {}, h("span.gname"), h("span.track", {}, h("span.fill")), h("span.count.num")),
    (node, g) => {
      setText(node.querySelector(".gname"), g.name);
      setText(node.querySelector(".count"), `${g.cast} / ${g.seats}`);
      const pct = g.seats ? Math.min(100, (100 * g.cast) / g.seats) : 0;
      node.querySelector(".fill").style.width = `${pct}%`;
    },
  );
}

export function toggleClass(node, name, on) {
  if (node.classList.contains(name) !== Boolean(on)) node.classList.toggle(name, Boolean(on));
}

export function show(node, visible) {
  if (node.hidden === Boolean(visible)) node.hidden = !visible;
}

// A grade's CSS class: g0 for the best grade ... g3 for 差; "blank" for none.
export function gradeClass(grades, grade) {
  const i = grades.indexOf(grade);
  return i < 0 ? "blank" : `g${Math.min(i, 3)}`;
}

export async function fetchMeeting() {
  try {
    const response = await fetch(at("/api/meeting"), { cache: "no-store" });
    if (response.ok) return await response.json();
  } catch {
    // offline: the view still carries the agenda; grades fall back to the default scale
  }
  return null;
}

// The reporters with their agenda status; before the meeting starts everyone is pending,
// whatever the view says.
export function agendaReporters(view) {
  const reporters = view.reporters || [];
  if (view.state !== "not_started") return reporters;
  return reporters.map((r) => ({ ...r, status: "pending" }));
}

// The agenda's steps as the server laid them out (the view's `plan`, meeting/agenda.py): the
// chair console and the projector use it to say what comes next. `reporter` is set on a step
// about one reporter (a report, or a 点评 on one report).
export function plan(view) {
  return (view.plan || []).map((s) => ({
    ...s,
    reporter: s.kind !== "vote" && s.reporters.length === 1 ? s.reporters[0] : null,
  }));
}

// Who speaks on a speaking step, as the pages show it: [phase label, name, second line]. A 点评
// on one report names the reporter (and who comments); a 集中点评 names the commenters; the
// closing 讲话 names its speaker.
export function speaking(step, reporterById) {
  const commenters = (step.commenters || []).join("、");
  if (step.kind === "speech") return ["讲话", commenters, ""];
  if (step.kind === "comment" && !step.reporter) return ["集中点评", "全体述职人", commenters ? `点评：${commenters}` : ""];
  const r = reporterById(step.reporter);
  const second = step.kind === "comment" && commenters ? `${r.org} · 点评：${commenters}` : r.org;
  return [PHASES[step.kind] || "", r.name, second];
}

// A file the server makes (GET /api/download/{kind}: the printouts, the export, the 备案
// package), fetched with the chair key (a plain link could not send it) and saved under the
// server's name. `out` says how it went: 正在生成, 已下载 <name>, or the refusal's message.
export async function downloadFile(kind, key, out) {
  out.className = "paper-result";
  setText(out, "正在生成（签名的文件约需数秒）…");
  try {
    const response = await fetch(at(`/api/download/${kind}`), {
      headers: { Authorization: `Bearer ${key}` }, cache: "no-store",
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      out.className = "paper-result bad";
      setText(out, `未生成：${(body.error && body.error.msg) || `HTTP ${response.status}`}`);
      return false;
    }
    const disposition = response.headers.get("Content-Disposition") || "";
    const name = decodeURIComponent(disposition.split("''")[1] || kind);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    out.className = "paper-result ok";
    const verify = kind === "archive" || kind === "tally" || kind === "evaluation" ? "（可用 pingyi verify 核验）" : "";
    setText(out, `已下载 ${name}${verify}`);
    return true;
  } catch {
    out.className = "paper-result bad";
    setText(out, "网络已断开，未生成，请稍后重试");
    return false;
  }
}

// A JSON call with a key (GET; POST when there is a body): {status, body}; without a network,
// status 0 and an error saying so in the page's own words.
export async function callWithKey(path, key, body, offline = "网络已断开，请稍后重试") {
  const options = { headers: { Authorization: `Bearer ${key}` }, cache: "no-store" };
  if (body) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(at(path), options);
    return { status: response.status, body: await response.json().catch(() => ({})) };
  } catch {
    return { status: 0, body: { error: { code: "offline", msg: offline } } };
  }
}
