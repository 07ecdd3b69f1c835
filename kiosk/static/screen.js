// The projector (/screen): who speaks now with a running timer, the agenda's progress, turnout
// while voting and, once revealed, the results. Read-only. Every update edits the existing
// elements in place (no rebuild), so the hall sees no flicker.
import {
  DEFAULT_GRADES, PHASES, agendaReporters, connect, elapsed, gradeClass, h, mmss, plan, setText, show,
  showNetStatus, syncList, syncTurnoutBars, toggleClass,
} from "/static/common.js";

const ui = Object.fromEntries(
  [...document.querySelectorAll("[id]")].map((node) => [node.id, node]),
);
let view = null;

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
}

function renderJoin(current) {
  const open = view.meeting.join === "open" && current !== "results" && view.state !== "finished";
  show(ui.join, open);
  if (open && !ui["join-qr"].getAttribute("src")) ui["join-qr"].src = "/api/join-qr.svg";
  setText(ui["join-url"], view.join_url || "");
}

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
  const r = reporterById(view.reporter);
  setText(ui.phase, PHASES[view.phase] || "");
  toggleClass(ui.speaker, "comment", view.phase === "comment");
  show(ui.paused, view.paused);
  setText(ui.name, r.name);
  setText(ui.org, r.org);
  tick();
  const steps = plan(view.reporters || [], view.meeting.voting);
  const next = steps[(view.step ?? -1) + 1];
  let text = "";
  if (next && next.kind === "vote") text = "下一项：投票";
  else if (next) text = `下一项：${reporterById(next.reporter).name} ${PHASES[next.kind]}`;
  setText(ui.next, text);
}

function tick() {
  if (view && !ui.speaker.hidden) setText(ui.timer, mmss(elapsed(view.timer)));
}

function renderTurnout() {
  const round = view.round || {};
  const t = view.turnout || { cast: 0, seats: 0, groups: [] };
  const title = {
    ready: "即将开始投票", open: "投票进行中", closed: "投票已结束，等待公布结果",
  }[round.status] || "投票";
  setText(ui["turnout-title"], title);
  toggleClass(ui.turnout, "open", round.status === "open");
  setText(ui.cast, t.cast);
  setText(ui.seats, t.seats);
  syncTurnoutBars(ui.groups, t.groups);
}

function renderAgenda() {
  const reporters = agendaReporters(view);
  const done = reporters.filter((r) => r.status === "done").length;
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
      for (const s of ["pending", "current", "done"]) toggleClass(node, `st-${s}`, r.status === s);
    },
  );
}

function renderResults() {
  const result = view.result;
  const grades = result.grades || DEFAULT_GRADES;
  const rows = result.reporters || [];
  const finished = view.state === "finished";
  setText(ui["results-title"], finished ? "评议结果（会议已结束）" : "评议结果");
  if (!ui.legend.childElementCount) {
    ui.legend.append(
      ...grades.map((g) => h(`span.key.${gradeClass(grades, g)}`, {}, g)),
      h("span.key.blank", {}, "弃权/废票"),
    );
  }
  ui.rtable.style.setProperty("--rows", Math.max(rows.length, 6));
  const header = ui.rtable.querySelector(".row.head");
  const body = ui.rtable.querySelector(".rows") || ui.rtable.appendChild(h("div.rows"));
  header.hidden = false;
  syncList(
    body,
    rows,
    (r) => r.id,
    () =>
      h(
        "div.row",
        { role: "row" },
        h("span.idx.num"),
        h("span.name"),
        h("span.org"),
        h("span.dist", {}, [...grades, "blank"].map((g) => h(`span.seg.${gradeClass(grades, g)}`))),
        h("span.score.num"),
        h("span.final", {}, h("span.grade")),
        h("span.why"),
      ),
    (node, r) => {
      setText(node.querySelector(".idx"), rows.indexOf(r) + 1);
      setText(node.querySelector(".name"), r.name);
      setText(node.querySelector(".org"), r.org);
      const blanks = (r.abstain || 0) + (r.invalid || 0);
      const values = [...grades.map((g) => (r.counts || {})[g] || 0), blanks];
      const total = values.reduce((a, b) => a + b, 0);
      const segments = node.querySelectorAll(".seg");
      values.forEach((n, i) => {
        const pct = total ? (100 * n) / total : 0;
        segments[i].style.width = `${pct}%`;
        setText(segments[i], pct >= 5 ? n : "");
        segments[i].title = `${i < grades.length ? grades[i] : "弃权/废票"} ${n}`;
      });
      setText(node.querySelector(".score"), r.score == null ? "—" : r.score.toFixed(2));
      const badge = node.querySelector(".grade");
      setText(badge, r.final_grade || "待定");
      badge.className = `grade ${gradeClass(grades, r.final_grade)}`;
      setText(node.querySelector(".why"), r.decided_by || "");
    },
  );
  const notes = [];
  if (result.valid === false) {
    const q = result.quorum || {};
    notes.push(`实到 ${q.cast} 人，应到 ${q.seats} 人，未达到规定比例，本次测评无效`);
  }
  for (const u of result.undecided || []) {
    const names = (u.reporters || []).map((id) => reporterById(id).name).join("、");
    notes.push(`待会议决定${u.grade ? `（${u.grade}）` : ""}：${names} — ${u.why}`);
  }
  show(ui.undecided, notes.length > 0);
  setText(ui.undecided, notes.join("；"));
}

setInterval(tick, 250);
