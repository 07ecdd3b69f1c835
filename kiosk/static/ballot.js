// The phone ballot (/j/{token}): follows the agenda, fills in the 述职评议表, reviews and casts
// it, shows the receipt. The half-filled ballot (marks and its random cid) stays in
// localStorage until the server has acknowledged it; nothing is sent before the voter confirms.
// When the meeting gives this phone's group item forms (逐项测评, issue 17), the form is
// ballot_items.js's one-reporter-per-page checklist instead; the flow and the draft are the same.
import {
  at,
  DEFAULT_GRADES, agendaReporters, connect, elapsed, fetchMeeting, gradeClass, h, mmss, randomHex,
  setText, show, showNetStatus, speaking, syncList, toggleClass,
} from "/static/common.js";
import { castParts, hasAnswers, itemPlan, mountItems } from "/static/ballot_items.js";

const token = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
const KEY = `pingyi:${token}`;
const ui = Object.fromEntries(
  [...document.querySelectorAll("[id]")].map((node) => [node.id, node]),
);

let grades = DEFAULT_GRADES;
let view = null;
let voted = new Set(); // rounds the server says this token has voted in
let refused = false;
let online = false; // the socket is up (a pending ballot goes as soon as it is)
let errorText = "";
let draft = null; // {round, cid, marks: {id: grade}, stage: "form"|"review", pending, sent, at}
// (with item forms also items: {id: {item id: option}} and page: the reporter page shown)
let restorePlace = true; // after a (re)load, the ballot scrolls back to where the voter was
let group = null; // this card's voter group (welcome.group): which forms it votes with
// The meeting's forms ({forms, ballot_forms} from /api/meeting; kept in localStorage so a
// failed fetch still finds them). Until the first fetch has settled the form is not shown:
// a ballot must not start as grade-only and turn into a checklist under the voter's thumb.
let formsConfig = load("forms");
let meetingSettled = false;

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
    online = state === "online";
    if (view) render();
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
        setText(ui.named, msg.voter_name ? `本组为实名测评：您的选票将记录您的姓名（${msg.voter_name}）` : "");
        show(ui.named, Boolean(msg.voter_name));
        group = msg.group == null ? null : msg.group;
        view = msg.view;
        render();
        submitPending();
        if (meetingSettled && !meetingLoaded) loadMeeting(); // the first fetch failed: try again
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
        // Another phone holding the same card has voted: this ballot was not counted.
        save(`twin:${draft.round}`, true);
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

// The cast: today's {t, round, marks, cid} (every reporter of the round, null for 弃权) for a
// grade-only ballot; with item forms {t, round, marks, items, cid}, marks only for the reporters
// whose form has a grade part and items for those whose form has items (ballot_items.js).
function castMessage(round) {
  const plan = planFor(round);
  if (!plan) return { t: "cast", round: round.id, marks: fullMarks(round), cid: draft.cid };
  const { marks, items } = castParts(plan, draft, grades);
  return { t: "cast", round: round.id, marks, items, cid: draft.cid };
}

function submitPending() {
  const round = view && view.round;
  if (!draft || !draft.pending || !round || round.id !== draft.round) return;
  if (round.status !== "open") return;
  if (!formsKnown()) return; // sent once the meeting's forms are known (loadMeeting)
  const sent = session.send(castMessage(round));
  if (sent && !draft.sent) {
    draft.sent = true; // once sent, a "voted" from the server may be this very ballot
    saveDraft();
  }
}

// ---- the forms ------------------------------------------------------------------------------

let meetingLoaded = false;

function formsKnown() {
  return meetingSettled || formsConfig != null;
}

// null: today's grade-only ballot; else the item plan of this round for this phone's group
function planFor(round) {
  return itemPlan(formsConfig, group, round);
}

function loadMeeting() {
  return fetchMeeting().then((meeting) => {
    const first = !meetingSettled;
    meetingSettled = true;
    if (meeting) {
      meetingLoaded = true;
      const config = meeting.forms && meeting.ballot_forms
        ? { forms: meeting.forms, ballot_forms: meeting.ballot_forms }
        : null;
      const changed = JSON.stringify(config) !== JSON.stringify(formsConfig);
      formsConfig = config;
      save("forms", config);
      if (changed && view) render();
    }
    if (meeting && Array.isArray(meeting.grades) && meeting.grades.length) {
      grades = meeting.grades;
      if (view) {
        ui.ballot.replaceChildren(); // rebuild the buttons with the meeting's own scale
        render();
      }
    } else if (first && view) {
      render();
    }
    submitPending();
  });
}

const itemPages = mountItems(ui, {
  reporterById: (id) => reporterById(id),
  editable: () => Boolean(draft && !draft.pending),
  changed() {
    saveDraft();
    render();
  },
  toReview: () => toReview(),
  toForm() {
    draft.stage = "form";
    saveDraft();
    render();
    window.scrollTo(0, 0);
  },
});

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
    // 重新测评: the earlier round was voided; every card votes again in this one.
    const voided = round.voided || [];
    if (voided.length && (round.status === "ready" || round.status === "open")) {
      return [`重新测评 · ${label}`, "上次测评已作废，请重新投票", `原因：${voided[voided.length - 1].reason}`];
    }
    return [label, "", ""];
  }
  const [phase, who, second] = speaking({ kind: view.phase, reporter: view.reporter, commenters: view.commenters }, reporterById);
  return [`${view.paused ? "会议暂停 · " : ""}正在${phase}`, who, second];
}

function renderNow() {
  const [label, who, org] = nowText();
  setText(ui["now-label"], label);
  setText(ui["now-who"], who);
  setText(ui["now-org"], org);
  const timed = view.state === "running" && ["report", "comment", "speech"].includes(view.phase);
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
  const left = round.reporters.length - done;
  setText(ui.progress, `已评 ${done} / ${round.reporters.length} 人`);
  toggleClass(ui.ballot, "started", done > 0);
  show(ui.jump, done > 0 && left > 0);
  setText(ui.jump, `跳到未评 (${left})`);
  if (restorePlace) {
    restorePlace = false;
    const at = draft.at && ui.ballot.querySelector(`li[data-key="${CSS.escape(draft.at)}"]`);
    if (at) at.scrollIntoView({ block: "center" });
  }
}

// 逐项测评: one reporter per page (ballot_items.js); a reload comes back to the page it was on.
function renderItems(round, plan) {
  if (!draft.items) draft.items = {};
  const before = draft.page;
  itemPages.render(plan, draft, grades);
  if (draft.page !== before) saveDraft();
  if (restorePlace) {
    restorePlace = false;
    if (draft.page && draft.page !== plan.reporters[0].id) ui["items-status"].scrollIntoView({ block: "start" });
  }
}

function renderReview(round) {
  const plan = planFor(round);
  if (plan) {
    const { allBlank } = itemPages.renderReview(plan, draft, grades);
    show(ui["all-blank"], allBlank);
    show(ui["pending-note"], draft.pending && !online);
    ui.confirm.disabled = draft.pending;
    ui["back-edit"].disabled = draft.pending;
    setText(ui.confirm, draft.pending ? "正在提交…" : allBlank ? "确认全部弃权并提交" : "确认提交");
    return;
  }
  if (ui["review-list"].dataset.mode) {
    ui["review-list"].replaceChildren(); // the lines were the checklist's
    delete ui["review-list"].dataset.mode;
  }
  const blanks = round.reporters.filter((id) => !draft.marks[id]);
  const summary = `共 ${round.reporters.length} 人，已评 ${round.reporters.length - blanks.length} 人`;
  setText(ui["review-summary"], blanks.length ? `${summary}，弃权 ${blanks.length} 人。` : `${summary}。`);
  const allBlank = blanks.length === round.reporters.length;
  show(ui["all-blank"], allBlank);
  show(ui["pending-note"], draft.pending && !online);
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
  setText(ui.confirm, draft.pending ? "正在提交…" : allBlank ? "确认全部弃权并提交" : "确认提交");
}

// The card voted on another phone while this one held a ballot of its own: refused with
// already_voted, or (after a reload) the server says voted and this phone holds marks it
// never sent (a ballot it sent may be the one the server has: then it is not a twin).
function isTwin(round, receipt) {
  if (receipt) return false;
  if (load(`twin:${round.id}`)) return true;
  const kept = storedDraft(round);
  return Boolean(kept && !kept.pending && !kept.sent && hasAnswers(kept));
}

function renderDone(round, open) {
  const receipt = receiptOf(round.id);
  const twin = isTwin(round, receipt);
  toggleClass(ui.done, "twin", twin);
  setText(ui["done-icon"], twin ? "!" : "✓");
  let title = receipt ? "您的投票已记录" : "您已投票";
  if (twin) title = "此卡已在其他设备投票，本机未计入";
  setText(ui["done-title"], title);
  show(ui["receipt-label"], Boolean(receipt));
  show(ui.receipt, Boolean(receipt));
  setText(ui.receipt, receipt ? receipt.receipt : "");
  const closed = open ? "" : "本轮投票已结束。";
  let hint = `请记下回执编号，结果公布后可在“核对回执”页面找到它。${closed}`;
  if (!receipt) hint = `服务器记录此参会卡本轮已投票，本机没有回执。${closed}`;
  if (twin) hint = "本机填写的选票没有提交。如果不是您本人在其他设备上投的票，请立即联系会务人员。";
  setText(ui["done-hint"], hint);
  const revealed = Boolean(receipt && round.status === "revealed");
  show(ui["check-link"], revealed);
  if (revealed) ui["check-link"].href = at(`/check#${receipt.receipt}`);
}

function renderResults() {
  const results = view.results || [];
  show(ui.results, results.length > 0);
  syncList(
    ui["results-list"],
    results,
    (r) => r.id,
    (r) =>
      "composite_grade" in r || "composite_score" in r
        ? h("li", {}, h("span.name"), h("span.org"), h("span.final", {}, h("span.score.num"), " ", h("span.grade")))
        : h("li", {}, h("span.name"), h("span.org"), h("span.grade")),
    (node, r) => {
      const rep = reporterById(r.id);
      setText(node.querySelector(".name"), rep.name);
      setText(node.querySelector(".org"), rep.org);
      // a 三评 meeting (issue 17): the result is the composite's 测评等次 (final_grade is only
      // the vote's part), with its 综合得分
      const composite = "composite_grade" in r || "composite_score" in r;
      const grade = composite ? r.composite_grade : r.final_grade;
      const badge = node.querySelector(".grade");
      setText(badge, grade || "待定");
      badge.className = `grade ${gradeClass(grades, grade)}`;
      const line = node.querySelector(".score");
      if (line) setText(line, r.composite_score == null ? "" : Number(r.composite_score).toFixed(2));
    },
  );
}

function render() {
  show(ui.refused, refused);
  if (refused) {
    setText(ui.title, "参会卡无效");
    document.title = "参会卡无效";
  }
  if (refused || !view) {
    for (const id of ["now", "voting", "review", "done", "missed", "results", "agenda-card", "error"]) {
      show(ui[id], false);
    }
    return;
  }
  setText(ui.title, view.meeting.title);
  document.title = `${view.meeting.title} · 投票`;
  const round = view.round;
  const open = Boolean(round && round.status === "open");
  const hasVoted = Boolean(round && (voted.has(round.id) || receiptOf(round.id)));
  const pending = Boolean(round && storedDraft(round) && draft.pending);
  // (the form waits for the meeting's forms: until then the page still shows who speaks)
  const filling = open && (!hasVoted || pending) && formsKnown();
  // Voting closed while this phone still held a ballot (on the form or the review, or sent
  // but never acknowledged): it was not counted, and the voter must not think otherwise.
  const kept = round && !open && !hasVoted && round.status !== "ready" ? storedDraft(round) : null;
  const missed = Boolean(kept && (kept.pending || kept.stage === "review" || hasAnswers(kept)));
  let stage = null;
  if (filling) stage = draftFor(round).stage;

  show(ui.now, !filling);
  show(ui.voting, stage === "form");
  show(ui.review, stage === "review");
  show(ui.done, hasVoted && !filling);
  show(ui.missed, missed);
  show(ui["agenda-card"], !filling);
  show(ui.error, Boolean(errorText) && !missed);
  setText(ui.error, errorText);
  document.body.dataset.stage = stage || (hasVoted && round ? "done" : missed ? "missed" : "waiting");

  if (!filling) {
    renderNow();
    renderAgenda();
  }
  const plan = stage === "form" ? planFor(round) : null;
  show(ui["ballot-intro"], !plan);
  show(ui.ballot, !plan);
  show(ui["ballot-bar"], !plan);
  show(ui["ballot-items"], Boolean(plan));
  if (stage !== "form") itemPages.closeDialog();
  if (stage === "form" && plan) renderItems(round, plan);
  else if (stage === "form") renderBallot(round);
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
  draft.at = id;
  saveDraft();
  render();
});

function toReview() {
  draft.stage = "review";
  errorText = "";
  saveDraft();
  render();
  window.scrollTo(0, 0);
}

ui["to-review"].addEventListener("click", toReview);

ui.jump.addEventListener("click", () => {
  const item = [...ui.ballot.children].find((li) => !li.classList.contains("marked"));
  if (!item) return;
  item.scrollIntoView({ block: "center", behavior: "smooth" });
  item.querySelector("button.choice").focus({ preventScroll: true });
  item.classList.remove("flash");
  void item.offsetWidth; // restart the highlight
  item.classList.add("flash");
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

loadMeeting();
