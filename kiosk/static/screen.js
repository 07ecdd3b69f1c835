// The projector (/screen): who speaks now with a running timer, the agenda's progress, turnout
// while voting and, once revealed, the results. Read-only. Every update edits the existing
// elements in place (no rebuild), so the hall sees no flicker. In open mode, a projector opened
// from the chair console (/screen?key=<screen key>) shows the room code (入场码) and puts it in
// its join QR code, asking /api/room for the new one each time it changes (every 30 s).
// While voting runs and with the result, the inputs' digests (the meeting file's, and once the
// round is counted the ballots') are shown small at the bottom: 会议文件 3681-7f8a, 选票 ab12-cd34.
import {
  at,
  agendaReporters, connect, DEFAULT_GRADES, gradeClass, h, mmss, plan, serverNow, setText, speaking,
  show, showNetStatus, stepClock, syncList, syncTurnoutBars, takeKeyFromUrl, toggleClass,
} from "/static/common.js";

const ui = Object.fromEntries(
  [...document.querySelectorAll("[id]")].map((node) => [node.id, node]),
);
let view = null;
const SCREEN_KEY = "pingyi:screen-key";
const screenKey = takeKeyFromUrl(SCREEN_KEY);
let room = null; // {room, until, now, join_url} from /api/room, and `expires` (this device's ms)
let roomState = screenKey ? "loading" : "keyless"; // "ok", "offline", "bad_key", "none"
let roomAsked = false;
let nextRoomAt = null; // this device's ms: ask /api/room again (null: never, or in flight)

connect({
  hello: () => ({ t: "hello", role: "screen" }),
  onStatus: (state) => showNetStatus(ui.net, state),
  onMessage(msg) {
    if (msg.t === "welcome" || msg.t === "view") {
      view = msg.view;
      render();
    }
  },
});

function reporterById(id) {
  return (view.reporters || []).find((r) => r.id === id) || { id, name: id, org: "" };
}

function mode() {
  const round = view.round;
  if (round && round.status === "revealed" && view.result) return "results";
  if (view.state !== "running") return view.state === "finished" && view.result ? "results" : "idle";
  if (view.phase === "vote") return "vote";
  return "speaking";
}

function render() {
  const meeting = view.meeting;
  setText(ui.title, meeting.title);
  setText(ui.meta, [meeting.date, meeting.place].filter(Boolean).join(" · "));
  document.title = `${meeting.title} · 大屏`;
  const current = mode();
  if (ui.stage.dataset.mode !== current) ui.stage.dataset.mode = current;
  show(ui.idle, current === "idle");
  show(ui.speaker, current === "speaking");
  show(ui.turnout, current === "vote");
  show(ui.results, current === "results");
  show(ui["agenda-panel"], current !== "results");
  show(ui.focus, current !== "results");
  renderJoin(current);
  if (current === "idle") renderIdle();
  if (current === "speaking") renderSpeaker();
  if (current === "vote") renderTurnout();
  if (current === "results") renderResults();
  else renderAgenda();
  renderDigests(current);
}

// The first 8 hex digits of a SHA-256, split 4-4 ("" for anything else: absent, unknown).
function shortDigest(digest) {
  return typeof digest === "string" && /^[0-9a-f]{64}$/i.test(digest)
    ? `${digest.slice(0, 4)}-${digest.slice(4, 8)}`.toLowerCase()
    : "";
}

function renderDigests(current) {
  const round = view.round || {};
  const shown = current === "vote" || current === "results";
  const meetingDigest = shown && round.status !== "ready" ? shortDigest(round.meeting_digest) : "";
  const ballotsDigest = shown ? shortDigest(round.ballots_digest) : "";
  setText(ui["meeting-digest"], meetingDigest);
  setText(ui["ballots-digest"], ballotsDigest);
  show(ui["digest-meeting"], Boolean(meetingDigest));
  show(ui["digest-ballots"], Boolean(ballotsDigest));
  show(ui.digests, Boolean(meetingDigest || ballotsDigest));
}

// n / d as a percentage, rounded half up once from the exact value (tally/engine.py
// round_half_up, as tally/report.py prints 差票%): integers only, no float drift.
function percentOf(n, d, places = 1) {
  const scale = 10 ** places;
  const units = Math.floor((2 * 100 * scale * n + d) / (2 * d));
  const whole = Math.floor(units / scale);
  return places ? `${whole}.${String(units % scale).padStart(places, "0")}` : String(whole);
}

// 参评率 rounded, with more digits when rounding would make it read as the limit it missed
// (tally/numbers.py `against`): 89.96% must not show as 90.0% beside 本次测评无效.
function rateAgainst(n, d, limit) {
  const limitPct = Math.round(limit * 1e6) / 1e4;
  let text = percentOf(n, d, 1);
  for (let places = 2; places <= 4 && Number(text) === limitPct && n / d !== limit; places++) {
    text = percentOf(n, d, places);
  }
  return text;
}

// 差票率 as tally/report.py prints it: from the exact count when the result carries its
// denominator, else the stored share (4 places) times 100, one decimal.
function poorPercent(r, poor) {
  const of = r.poor_share_of;
  if (of) return `${percentOf((r.counts || {})[poor] || 0, of, 1)}%`;
  if (r.poor_share == null) return "—";
  return `${(r.poor_share * 100).toFixed(1)}%`;
}

function isWritten(r) {
  if (r.mode) return r.mode === "written";
  return (view.reporters || []).some((x) => x.id === r.id && x.mode === "written");
}

function renderJoin(current) {
  const open = view.meeting.join === "open" && current !== "results" && view.state !== "finished";
  show(ui.join, open);
  if (view.meeting.join === "open" && screenKey && !roomAsked) {
    roomAsked = true;
    fetchRoom();
  }
  if (!open) return;
  // A code is accepted for one window after it changes: show the last one while offline.
  const code = room && Date.now() < room.expires ? room.room : null;
  show(ui["join-qr"], Boolean(code));
  show(ui["room-line"], Boolean(code));
  if (code) {
    const src = `/api/join-qr.svg?room=${code}`;
    if (ui["join-qr"].getAttribute("src") !== src) ui["join-qr"].src = src;
    setText(ui["room-code"], `${code.slice(0, 3)} ${code.slice(3)}`);
    setText(ui["join-title"], "手机扫码参加投票");
    setText(ui["join-url"], `或打开 ${view.join_url || "/join"} 输入入场码（每30秒更换）`);
  } else {
    const keyless = roomState === "keyless" || roomState === "bad_key";
    setText(ui["join-title"], keyless ? "本页不显示入场码" : "正在获取入场码…");
    setText(ui["join-url"], keyless ? "请在主持人控制台点击“打开大屏”，在投影电脑上打开大屏" : "");
  }
}

async function fetchRoom() {
  nextRoomAt = null;
  let wait = 3000; // offline or busy: ask again soon
  try {
    const response = await fetch(at("/api/room"), {
      headers: { Authorization: `Bearer ${screenKey}` },
      cache: "no-store",
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok && body.room) {
      const left = Math.max(0, body.until - body.now) * 1000;
      room = { ...body, expires: Date.now() + left + 30_000 };
      roomState = "ok";
      wait = left + 300; // just after the code changes on the server
    } else if (response.status === 401 || response.status === 404) {
      roomState = response.status === 401 ? "bad_key" : "none";
      if (response.status === 401) sessionStorage.removeItem(SCREEN_KEY);
      room = null;
      wait = null;
    } else {
      roomState = "offline";
    }
  } catch {
    roomState = "offline";
  }
  if (wait !== null) nextRoomAt = Date.now() + wait;
  if (view) renderJoin(mode());
}

// A timer, not setTimeout per code: a tab woken from sleep catches up within half a second.
setInterval(() => {
  if (nextRoomAt !== null && Date.now() >= nextRoomAt) fetchRoom();
  else if (room && view && Date.now() >= room.expires) renderJoin(mode());
}, 500);

function renderIdle() {
  const finished = view.state === "finished";
  setText(ui["idle-title"], finished ? "会议结束" : "会议即将开始");
  const count = (view.reporters || []).length;
  setText(
    ui["idle-sub"],
    finished
      ? "感谢各位参会"
      : `本次共有 ${count} 位同志述职，请参会人员用手机扫描${view.meeting.join === "open" ? "下方" : "参会卡上的"}二维码进入投票页面`,
  );
}

function renderSpeaker() {
  const [phase, name, second] = speaking({ kind: view.phase, reporter: view.reporter, commenters: view.commenters }, reporterById);
  setText(ui.phase, phase);
  toggleClass(ui.speaker, "comment", view.phase === "comment" || view.phase === "speech");
  show(ui.paused, view.paused);
  setText(ui.name, name);
  setText(ui.org, second);
  tick();
  const next = plan(view)[(view.step ?? -1) + 1];
  let text = "";
  if (next && next.kind === "vote") text = "下一项：投票";
  else if (next) text = `下一项：${speaking(next, reporterById).slice(0, 2).reverse().join(" ")}`;
  setText(ui.next, text);
}

function tick() {
  if (!view) return;
  if (!ui.speaker.hidden) {
    const clock = stepClock(view.timer, view.budget);
    setText(ui.timer, clock.text);
    toggleClass(ui.timer, "overtime", clock.over);
    setText(ui["timer-label"], clock.label);
    show(ui["timer-label"], Boolean(clock.label));
  }
  // The voting clock: how long the round has been open (a pause does not stop voting).
  const round = view.round;
  const open = !ui.turnout.hidden && round && round.status === "open" && round.opened_at != null;
  show(ui["vote-clock"], Boolean(open));
  if (open) setText(ui["vote-clock"], `已进行 ${mmss(Math.max(0, serverNow() - round.opened_at))}`);
}

function renderTurnout() {
  const round = view.round || {};
  const t = view.turnout || { cast: 0, seats: 0, groups: [] };
  const title = round.awaiting_teller ? "投票已结束，等待监票人开启选票" : {
    ready: "即将开始投票", open: "投票进行中", closed: "投票已结束，等待公布结果",
  }[round.status] || "投票";
  setText(ui["turnout-title"], title);
  // 重新测评: the room sees that the earlier round was voided, and why (never its result).
  const voided = round.voided || [];
  const last = voided[voided.length - 1];
  show(ui.redo, Boolean(last));
  setText(ui.redo, last ? `重新测评：上次测评已作废（已收回${last.cast}票），原因：${last.reason}` : "");
  toggleClass(ui.turnout, "open", round.status === "open");
  setText(ui.cast, t.cast);
  setText(ui.seats, t.seats);
  syncTurnoutBars(ui.groups, t.groups);
  tick();
}

// A 书面述职 reporter has no speaking step: once the agenda has gone past its place (someone
// after it spoke or speaks), it is shown as passed, with its tag, not as skipped.
function passedWritten(reporters) {
  const passed = new Set();
  let later = false;
  for (let i = reporters.length - 1; i >= 0; i--) {
    const r = reporters[i];
    if (r.mode === "written" && r.status === "pending" && later) passed.add(r.id);
    if (r.status === "done" || r.status === "current") later = true;
  }
  return passed;
}

function renderAgenda() {
  const reporters = agendaReporters(view);
  const passed = passedWritten(reporters);
  const done = reporters.filter((r) => r.status === "done" || passed.has(r.id)).length;
  setText(ui["progress-text"], `${done} / ${reporters.length}`);
  ui["progress-bar"].style.width = `${reporters.length ? (100 * done) / reporters.length : 0}%`;
  ui.agenda.style.setProperty("--rows", Math.max(reporters.length, 8));
  syncList(
    ui.agenda,
    reporters,
    (r) => r.id,
    (r) =>
      h(
        "li",
        {},
        h("span.mark"),
        h("span.name", {}, r.name),
        r.mode === "written" ? h("span.tag.written", {}, "书面述职") : null,
        h("span.org", {}, r.org),
      ),
    (node, r) => {
      const status = passed.has(r.id) ? "done" : r.status;
      for (const s of ["pending", "current", "done"]) toggleClass(node, `st-${s}`, status === s);
      toggleClass(node, "written", r.mode === "written");
    },
  );
}

function renderResults() {
  const result = view.result;
  const grades = result.grades || DEFAULT_GRADES;
  if (result.appraisal || ui.stable) renderComposite(result);
  // The poor-vote rule's grade names its column (不合格票率 on a scale of one's own).
  const poor = result.poor_grade || grades[grades.length - 1];
  setText(ui["poor-head"], `${poor}票率`);
  const rows = result.reporters || [];
  const finished = view.state === "finished";
  setText(ui["results-title"], finished ? "评议结果（会议已结束）" : "评议结果");
  if (!ui.legend.childElementCount) {
    ui.legend.append(
      ...grades.map((g) => h(`span.key.${gradeClass(grades, g)}`, {}, g)),
      h("span.key.blank", {}, "弃权/废票"),
    );
  }
  renderBanner(result);
  if (result.appraisal) {
    renderUndecided(result);
    return;
  }
  ui.rtable.style.setProperty("--rows", Math.max(rows.length, 6));
  const header = ui.rtable.querySelector(".row.head");
  const body = ui.rtable.querySelector(".rows") || ui.rtable.appendChild(h("div.rows", { role: "rowgroup" }));
  header.hidden = false;
  const labels = [...grades, "弃权/废票"];
  syncList(
    body,
    rows,
    (r) => r.id,
    () =>
      h(
        "div.row",
        { role: "row" },
        h("span.idx.num", { role: "cell" }),
        h("span.who", { role: "cell" }, h("span.name"), h("span.tag.written", { hidden: true }, "书面述职")),
        h("span.org", { role: "cell" }),
        h(
          "span.dist",
          { role: "cell" },
          h("span.bar", {}, [...grades, "blank"].map((g) => h(`span.seg.${gradeClass(grades, g)}`))),
          h("span.nums.num", {}, [...grades, "blank"].map((g) => h(`span.n.${gradeClass(grades, g)}`))),
        ),
        h("span.score.num", { role: "cell" }),
        h("span.poor.num", { role: "cell" }),
        h("span.final", { role: "cell" }, h("span.grade")),
        h("span.why", { role: "cell" }),
      ),
    (node, r) => {
      setText(node.querySelector(".idx"), rows.indexOf(r) + 1);
      setText(node.querySelector(".name"), r.name);
      const written = isWritten(r);
      show(node.querySelector(".tag.written"), written);
      toggleClass(node, "written", written);
      setText(node.querySelector(".org"), r.org);
      const blanks = (r.abstain || 0) + (r.invalid || 0);
      const values = [...grades.map((g) => (r.counts || {})[g] || 0), blanks];
      const total = values.reduce((a, b) => a + b, 0);
      const segments = node.querySelectorAll(".seg");
      const numbers = node.querySelectorAll(".n");
      values.forEach((n, i) => {
        const pct = total ? (100 * n) / total : 0;
        segments[i].style.width = `${pct}%`;
        setText(segments[i], pct >= 12 ? n : ""); // the count beside says it anyway
        segments[i].title = `${labels[i]} ${n}`;
        // every count beside the bar, in its grade's colour, so a thin segment is still read
        setText(numbers[i], n);
        numbers[i].title = `${labels[i]} ${n}`;
      });
      setText(node.querySelector(".score"), r.score == null ? "—" : r.score.toFixed(2));
      setText(node.querySelector(".poor"), poorPercent(r, poor));
      const badge = node.querySelector(".grade");
      setText(badge, r.final_grade || "待定");
      badge.className = `grade ${gradeClass(grades, r.final_grade)}`;
      setText(node.querySelector(".why"), r.decided_by || "");
    },
  );
  renderUndecided(result);
}

function renderUndecided(result) {
  const notes = [];
  for (const u of result.undecided || []) {
    const names = (u.reporters || []).map((id) => reporterById(id).name).join("、");
    notes.push(`待会议决定${u.grade ? `（${u.grade}）` : ""}：${names} — ${u.why}`);
  }
  show(ui.undecided, notes.length > 0);
  syncList(
    ui.undecided,
    notes,
    (note) => note,
    (note) => h("span.note", {}, note),
    () => {},
  );
}

// ---- a 三评 meeting (issue 17): the combined result beside each constituency's ----------------

// Its table (#stable) is made the first time such a result is shown, in place of #rtable: one
// row per reporter in composite_rank order; a column per voter group, then 群众测评 and each
// other source of the composite (项目指标, 专家点评 ...), 综合得分 and 测评等次. Each row carries
// data-reporter, each cell data-col (group id, "vote", source id, "composite", "grade").
const SCORE = (x) => (x == null ? null : Number(x).toFixed(2));

function weightText(w) {
  if (w == null) return "";
  return typeof w === "string" ? `×${w}` : `×${Math.round(Number(w) * 1000) / 1000}`;
}

// The groups' columns: the result's groups, and any other group a reporter was scored by.
function compositeGroups(result) {
  const groups = (result.groups || []).map((g) => ({ id: g.id, name: g.name }));
  for (const r of result.reporters || []) {
    for (const [id, g] of Object.entries(r.by_group || {})) {
      if (!groups.some((x) => x.id === id)) groups.push({ id, name: g.name || id });
    }
  }
  // a group's weight in the header; where it differs by 类别, each one (×0.5/0.3), and the
  // reporter's own in its cell's title
  for (const g of groups) {
    const weights = new Set(
      (result.reporters || []).map((r) => (r.by_group || {})[g.id]).filter(Boolean).map((x) => x.weight),
    );
    weights.delete(null);
    weights.delete(undefined);
    g.weight = weights.size ? [...weights].map((w) => Math.round(Number(w) * 1000) / 1000).join("/") : null;
  }
  return groups;
}

function compositeColumns(result) {
  const appraisal = result.appraisal;
  const sources = appraisal.sources || [];
  const vote = sources.find((s) => s.id === "vote") || { id: "vote", name: "群众测评", weight: null };
  const cols = compositeGroups(result).map((g) => ({
    col: g.id, kind: "group", name: g.name, weight: g.weight,
  }));
  cols.push({ col: "vote", kind: "vote", name: vote.name || "群众测评", weight: vote.weight });
  for (const s of sources) {
    if (s.id !== "vote") cols.push({ col: s.id, kind: "source", name: s.name || s.id, weight: s.weight });
  }
  cols.push({ col: "composite", kind: "composite", name: "综合得分", weight: null });
  return cols;
}

function compositeRows(result) {
  const rows = [...(result.reporters || [])];
  const rank = (r) => (r.composite_rank == null ? Infinity : r.composite_rank);
  return rows.sort((a, b) => rank(a) - rank(b)); // a stable sort: ties keep the result's order
}

function cellValue(r, c) {
  if (c.kind === "group") {
    const g = (r.by_group || {})[c.col];
    return g ? SCORE(g.score) : null;
  }
  if (c.kind === "vote") return SCORE(r.vote_score ?? (r.sources || {}).vote);
  if (c.kind === "source") return SCORE((r.sources || {})[c.col]);
  return SCORE(r.composite_score);
}

function renderComposite(result) {
  if (!result.appraisal) {
    // a grade-only result after a 三评 one (not expected in one meeting): today's table back
    show(ui.stable, false);
    show(ui["stable-note"], false);
    show(ui.rtable, true);
    return;
  }
  const grades = result.appraisal.grades || result.grades || DEFAULT_GRADES;
  const cols = compositeColumns(result);
  const signature = cols.map((c) => `${c.col}:${c.name}:${c.weight}`).join("|");
  if (!ui.stable) {
    ui.stable = h("div.rtable.stable", { id: "stable", role: "table", "aria-label": "综合评议结果" });
    ui["stable-note"] = h("p.stable-note", { id: "stable-note", hidden: true });
    ui.rtable.after(ui.stable, ui["stable-note"]);
  }
  show(ui.rtable, false);
  show(ui.stable, true);
  const table = ui.stable;
  if (table.dataset.cols !== signature) {
    table.dataset.cols = signature;
    table.replaceChildren(
      h(
        "div.row.head",
        { role: "row" },
        h("span.idx", { role: "columnheader", dataset: { col: "rank" } }, "名次"),
        h("span", { role: "columnheader", dataset: { col: "name" } }, "姓名"),
        h("span", { role: "columnheader", dataset: { col: "org" } }, "单位"),
        cols.map((c) =>
          h(
            `span.sc.${c.kind}`,
            { role: "columnheader", dataset: { col: c.col } },
            h("span.cname", {}, c.name),
            c.weight == null ? null : h("span.cw.num", {}, weightText(c.weight)),
          ),
        ),
        h("span.final", { role: "columnheader", dataset: { col: "grade" } }, "测评等次"),
      ),
      h("div.rows", { role: "rowgroup" }),
    );
  }
  table.style.setProperty("--cols", cols.length);
  const rows = compositeRows(result);
  table.style.setProperty("--rows", Math.max(rows.length, 6));
  let missing = false;
  syncList(
    table.querySelector(".rows"),
    rows,
    (r) => r.id,
    (r) =>
      h(
        "div.row",
        { role: "row", dataset: { reporter: r.id } },
        h("span.idx.num", { role: "cell", dataset: { col: "rank" } }),
        h("span.who", { role: "cell", dataset: { col: "name" } }, h("span.name"), h("span.tag.category", { hidden: true })),
        h("span.org", { role: "cell", dataset: { col: "org" } }),
        cols.map((c) => h(`span.sc.num.${c.kind}`, { role: "cell", dataset: { col: c.col } })),
        h("span.final", { role: "cell", dataset: { col: "grade" } }, h("span.grade")),
      ),
    (node, r) => {
      setText(node.querySelector(".idx"), r.composite_rank ?? "");
      setText(node.querySelector(".name"), r.name);
      const tag = node.querySelector(".tag.category");
      setText(tag, r.category || "");
      show(tag, Boolean(r.category));
      setText(node.querySelector(".org"), r.org);
      for (const c of cols) {
        const cell = node.querySelector(`.sc[data-col="${CSS.escape(c.col)}"]`);
        const value = cellValue(r, c);
        // a source the composite had to do without: 缺, its weight spread over the others
        const absent = value == null && c.kind === "source";
        if (absent) missing = true;
        toggleClass(cell, "missing", absent);
        if (absent) {
          if (!cell.querySelector(".fn")) cell.replaceChildren("—", h("sup.fn", {}, "*"));
        } else {
          setText(cell, value ?? "—");
        }
        let title = "";
        if (c.kind === "group") {
          const g = (r.by_group || {})[c.col];
          if (g) title = [g.why, g.weight == null ? "" : `权重 ${weightText(g.weight)}`].filter(Boolean).join("，");
        } else if (c.kind === "vote" || c.kind === "source") {
          const used = (r.weights || {})[c.col];
          title = absent ? "缺：权重已按比例折算" : used == null ? "" : `实际权重 ${weightText(used)}`;
        } else {
          const step = (r.composite_steps || []).find((s) => s.rule === "composite");
          title = step ? step.why : "";
        }
        if (cell.title !== title) cell.title = title;
      }
      const badge = node.querySelector(".grade");
      setText(badge, r.composite_grade || "待定");
      badge.className = `grade ${gradeClass(grades, r.composite_grade)}`;
      const why = r.composite_decided_by || "";
      if (badge.title !== why) badge.title = why;
    },
  );
  // the footnote: which weights were used in place of the declared ones
  let note = "";
  if (missing) {
    note = "* 缺：权重已按比例折算";
    const used = new Set(rows.map((r) => JSON.stringify(r.weights || {})));
    if (used.size === 1) {
      const weights = rows.length ? rows[0].weights || {} : {};
      const named = cols
        .filter((c) => (c.kind === "vote" || c.kind === "source") && weights[c.col] != null && weights[c.col] > 0)
        .map((c) => `${c.name}${weightText(weights[c.col])}`);
      if (named.length) note += `（本次按 ${named.join("、")} 计）`;
    }
  }
  setText(ui["stable-note"], note);
  show(ui["stable-note"], Boolean(note));
}

// 应到 / 实到 / 参评率 / 有效, large; red, saying 本次测评无效 and why, when the quorum was missed.
function renderBanner(result) {
  const q = result.quorum || {};
  const seats = q.seats ?? 0;
  const cast = q.cast ?? 0;
  const required = q.required ?? 0;
  const invalid = result.valid === false;
  setText(ui["b-seats"], seats);
  setText(ui["b-cast"], cast);
  setText(ui["b-rate"], seats ? `${rateAgainst(cast, seats, required)}%` : "—");
  setText(ui["b-valid"], invalid ? "本次测评无效" : "有效");
  toggleClass(ui.banner, "invalid", invalid);
  let why = "";
  if (invalid) {
    const limit = `${Math.round(required * 1e6) / 1e4}%`;
    why = q.met === false ? `参评率低于规定的 ${limit}` : "未达到规定的参评率";
  }
  setText(ui["b-why"], why);
  show(ui["b-why"], Boolean(why));
}

setInterval(tick, 250);
