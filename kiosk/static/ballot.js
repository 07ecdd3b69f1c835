// The phone ballot (/j/{token}): follows the agenda, fills in the 述职评议表, reviews and casts
// it, shows the receipt. The half-filled ballot (marks and its random cid) stays in
// localStorage until the server has acknowledged it; nothing is sent before the voter confirms.
import {
  DEFAULT_GRADES, PHASES, agendaReporters, connect, elapsed, fetchMeeting, gradeClass, h, mmss, randomHex,
  setText, show, showNetStatus, syncList, toggleClass,
} from "/static/common.js";

const token = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
const KEY = `pingyi:${token}`;
const ui = Object.fromEntries(
  [...document.querySelectorAll("[id]")].map((node) => [node.id, node]),
);

let grades = DEFAULT_GRADES;
let view = null;
let voted = new Set(); // rounds the server says this token has voted in
let refused = false;
let errorText = "";
let draft = null; // {round, cid, marks: {id: grade}, stage: "form"|"review", pending}

// ---- localStorage ---------------------------------------------------------------------------

function load(name) {
  try {
    return JSON.parse(localStorage.getItem(`${KEY}:${name}`));
  } catch {
    return null;
  }
}

function save(name, value) {
  try {
    if (value == null) localStorage.removeItem(`${KEY}:${name}`);
    else localStorage.setItem(`${KEY}:${name}`, JSON.stringify(value));
  } catch {
    // private mode or full storage: the ballot still works, it just won't survive a reload
  }
}

const receiptOf = (round) => load(`receipt:${round}`);
const saveDraft = () => draft && save(`draft:${draft.round}`, draft);

// The stored ballot of this round, if any (a pending one must be found even when the
// server already says this token voted: its receipt is still to be fetched).
function storedDraft(round) {
  if (!draft || draft.round !== round.id) draft = load(`draft:${round.id}`);
  return draft;
}

function draftFor(round) {
  if (!storedDraft(round)) {
    draft = { round: round.id, cid: randomHex(16), marks: {}, stage: "form", pending: false };
    saveDraft();
  }
  return draft;
}

// ---- the session ----------------------------------------------------------------------------

const session = connect({
  hello: () => ({ t: "hello", role: "phone", token }),
  onStatus(state, reason) {
    showNetStatus(ui.net, state);
    if (state === "refused") {
      refused = true;
      if (reason && reason !== "bad_token") ui["refused-msg"].textContent += `（${reason}）`;
      render();
    }
  },
  onMessage(msg) {
    switch (msg.t) {
      case "welcome":
        voted = new Set(msg.voted || []);
        setText(ui.group, msg.group_name ? `${msg.group_name}` : "");
        view = msg.view;
        render();
        submitPending();
        break;
      case "view":
        view = msg.view;
        render();
        break;
      case "receipt":
        onReceipt(msg);
        break;
      case "error":
        onError(msg);
        break;
      default:
    }
  },
});

function onReceipt(msg) {
  save(`receipt:${msg.round}`, { receipt: msg.receipt, again: Boolean(msg.again) });
  save(`draft:${msg.round}`, null);
  if (draft && draft.round === msg.round) draft = null;
  voted.add(msg.round);
  errorText = "";
  render();
}

function onError(msg) {
  errorText = msg.msg || msg.code || "操作失败";
  if (draft && draft.pending) {
    if (msg.code === "unavailable" || msg.code === "rate_limited") {
      setTimeout(submitPending, 3000); // the ballot was not stored: try again shortly
    } else {
      draft.pending = false;
      if (msg.code === "already_voted") {
        voted.add(draft.round);
        save(`draft:${draft.round}`, null);
        draft = null;
      } else if (msg.code !== "not_open") {
        draft.stage = "form";
      }
      saveDraft();
    }
  }
  render();
}

function fullMarks(round) {
  return Object.fromEntries(round.reporters.map((id) => [id, draft.marks[id] || null]));
}

function submitPending() {
  const round = view && view.round;
  if (!draft || !draft.pending || !round || round.id !== draft.round) return;
  if (round.status !== "open") return;
  session.send({ t: "cast", round: round.id, marks: fullMarks(round), cid: draft.cid });
}

// ---- rendering ------------------------------------------------------------------------------

function reporterById(id) {
  return (view.reporters || []).find((r) => r.id === id) || { id, name: id, org: "" };
}

function nowText() {
  if (view.state === "not_started") return ["会议尚未开始", "", ""];
  if (view.state === "finished") return ["会议已结束", "感谢您的参与", ""];
  const round = view.round;
  if (view.phase === "vote" && round) {
    const label = {
      ready: "即将开始投票", open: "投票进行中", closed: "投票已结束", revealed: "评议结果已公布",
    }[round.status];
    return [label, "", ""];
  }
  const r = view.reporter ? reporterById(view.reporter) : null;
  const label = `${view.paused ? "会议暂停 · " : ""}正在${PHASES[view.phase] || ""}`;
  return [label, r ? r.name : "", r ? r.org : ""];
}

function renderNow() {
  const [label, who, org] = nowText();
  setText(ui["now-label"], label);
  setText(ui["now-who"], who);
  setText(ui["now-org"], org);
  const timed = view.state === "running" && (view.phase === "report" || view.phase === "comment");
  show(ui["now-timer"], timed);
  if (timed) setText(ui["now-timer"], mmss(elapsed(view.timer)));
}

function renderAgenda() {
  syncList(
    ui.agenda,
    agendaReporters(view),
    (r) => r.id,
    () => h("li", {}, h("span.dot"), h("span.name"), h("span.org")),
    (node, r) => {
      setText(node.querySelector(".name"), r.name);
      setText(node.querySelector(".org"), r.org);
      node.className = `st-${r.status}`;
      toggleClass(node, "written", r.mode === "written");
    },
  );
}

function renderBallot(round) {
  syncList(
    ui.ballot,
    round.reporters.map(reporterById),
    (r) => r.id,
    (r) =>
      h(
        "li.item",
        {},
        h("p.who", {}, h("span.name", {}, r.name), r.mode === "written" ? h("span.tag.written", {}, "书面述职") : null),
        h("p.org", {}, r.org),
        h(
          "div.grades",
          { role: "group", "aria-label": `${r.name}的评价` },
          grades.map((g) => h("button.choice", { type: "button", dataset: { grade: g, id: r.id } }, g)),
        ),
      ),
    (node, r) => {
      const mark = draft.marks[r.id] || null;
      for (const b of node.querySelectorAll("button.choice")) {
        const on = b.dataset.grade === mark;
        b.setAttribute("aria-pressed", on ? "true" : "false");
        b.className = `choice ${on ? `on ${gradeClass(grades, mark)}` : ""}`.trim();
      }
      toggleClass(node, "marked", Boolean(mark));
    },
  );
  const done = round.reporters.filter((id) => draft.marks[id]).length;
  setText(ui.progress, `已评 ${done} / ${round.reporters.length} 人`);
}

function renderReview(round) {
  const blanks = round.reporters.filter((id) => !draft.marks[id]);
  const summary = `共 ${round.reporters.length} 人，已评 ${round.reporters.length - blanks.length} 人`;
  setText(ui["review-summary"], blanks.length ? `${summary}，弃权 ${blanks.length} 人。` : `${summary}。`);
  syncList(
    ui["review-list"],
    round.reporters.map(reporterById),
    (r) => r.id,
    () => h("li", {}, h("span.name"), h("span.grade")),
    (node, r) => {
      const mark = draft.marks[r.id] || null;
      setText(node.querySelector(".name"), r.name);
      const badge = node.querySelector(".grade");
      setText(badge, mark || "弃权");
      badge.className = `grade ${gradeClass(grades, mark)}`;
    },
  );
  ui.confirm.disabled = draft.pending;
  ui["back-edit"].disabled = draft.pending;
  setText(ui.confirm, draft.pending ? "正在提交…" : "确认提交");
}

function renderDone(round, open) {
  const receipt = receiptOf(round.id);
  setText(ui["done-title"], receipt ? "您的投票已记录" : "您已投票");
  show(ui["receipt-label"], Boolean(receipt));
  show(ui.receipt, Boolean(receipt));
  setText(ui.receipt, receipt ? receipt.receipt : "");
  setText(
    ui["done-hint"],
    receipt
      ? `请记下回执编号，可在计票后核对。${open ? "" : "本轮投票已结束。"}`
      : `本轮投票已记录。${open ? "" : "本轮投票已结束。"}`,
  );
}

function renderResults() {
  const results = view.results || [];
  show(ui.results, results.length > 0);
  syncList(
    ui["results-list"],
    results,
    (r) => r.id,
    () => h("li", {}, h("span.name"), h("span.org"), h("span.grade")),
    (node, r) => {
      const rep = reporterById(r.id);
      setText(node.querySelector(".name"), rep.name);
      setText(node.querySelector(".org"), rep.org);
      const badge = node.querySelector(".grade");
      setText(badge, r.final_grade || "待定");
      badge.className = `grade ${gradeClass(grades, r.final_grade)}`;
    },
  );
}

function render() {
  show(ui.refused, refused);
  if (refused || !view) {
    for (const id of ["now", "voting", "review", "done", "results", "agenda-card", "error"]) show(ui[id], false);
    return;
  }
  setText(ui.title, view.meeting.title);
  document.title = `${view.meeting.title} · 投票`;
  const round = view.round;
  const open = Boolean(round && round.status === "open");
  const hasVoted = Boolean(round && (voted.has(round.id) || receiptOf(round.id)));
  const pending = Boolean(round && storedDraft(round) && draft.pending);
  const filling = open && (!hasVoted || pending);
  if (pending && !open && !hasVoted) {
    errorText = "投票已结束，您的选票未能提交，请联系会务人员";
  }
  let stage = null;
  if (filling) stage = draftFor(round).stage;

  show(ui.now, !filling);
  show(ui.voting, stage === "form");
  show(ui.review, stage === "review");
  show(ui.done, hasVoted && !filling);
  show(ui["agenda-card"], !filling);
  show(ui.error, Boolean(errorText));
  setText(ui.error, errorText);
  document.body.dataset.stage = refused ? "refused" : stage || (hasVoted && round ? "done" : "waiting");

  if (!filling) {
    renderNow();
    renderAgenda();
  }
  if (stage === "form") renderBallot(round);
  if (stage === "review") renderReview(round);
  if (hasVoted && !filling) renderDone(round, open);
  renderResults();
}

// ---- input ----------------------------------------------------------------------------------

ui.ballot.addEventListener("click", (event) => {
  const button = event.target.closest("button.choice");
  if (!button || !draft || draft.pending) return;
  const { id, grade } = button.dataset;
  if (draft.marks[id] === grade) delete draft.marks[id]; // tapping it again clears it: 弃权
  else draft.marks[id] = grade;
  saveDraft();
  render();
});

ui["to-review"].addEventListener("click", () => {
  draft.stage = "review";
  errorText = "";
  saveDraft();
  render();
  window.scrollTo(0, 0);
});

ui["back-edit"].addEventListener("click", () => {
  draft.stage = "form";
  saveDraft();
  render();
});

ui.confirm.addEventListener("click", () => {
  if (!draft || draft.pending) return;
  draft.pending = true; // kept until the receipt arrives; resent with the same cid on reconnect
  errorText = "";
  saveDraft();
  render();
  submitPending();
});

setInterval(() => {
  if (view && !ui["now-timer"].hidden) setText(ui["now-timer"], mmss(elapsed(view.timer)));
}, 500);

fetchMeeting().then((meeting) => {
  if (meeting && Array.isArray(meeting.grades) && meeting.grades.length) {
    grades = meeting.grades;
    if (view) {
      ui.ballot.replaceChildren(); // rebuild the buttons with the meeting's own scale
      render();
    }
  }
});
