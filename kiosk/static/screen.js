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
