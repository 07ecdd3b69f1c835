// The chair console (/chair): drives the agenda (the natural next action as one big button),
// records the 点评 comment, watches turnout (never a count of marks while voting runs), enters
// paper ballots against a card's short code, shows the result once a round is closed, and
// takes the 监票人's key when a crash left a closed round sealed. 下载与打印 fetches the
// meeting's paper as `pingyi print` / `pingyi export` make it, and warns when the join cards'
// address opens on this machine only.
// Safety on the day: the main button locks for a moment after what it does changes (a double
// click never reaches the next action), 结束投票 and 结束会议 ask first in a dialog showing the
// turnout against the quorum, and the 点评 saves itself as the chair types. 重新测评 (voiding a
// closed, unrevealed round) asks for a written reason, which goes on the record and the sheet.
import {
  at,
  CHAIR_KEY_STORE, connect, DEFAULT_GRADES, downloadFile, fetchMeeting, gradeClass, h, keyForm, mmss, PHASES, plan, speaking,
  randomHex, serverNow, setText, show, showNetStatus, stepClock, syncList, syncTurnoutBars,
  takeKeyFromUrl, toggleClass,
} from "/static/common.js";
import { mountPanel } from "/static/chair_panel.js";

const ui = Object.fromEntries(
  [...document.querySelectorAll("[id]")].map((node) => [node.id, node]),
);
const LABELS = {
  start: "开始会议", next: "下一项", back: "后退一项", open: "开启投票", close: "结束投票",
  reveal: "公布结果", pause: "暂停会议", resume: "继续会议", void: "重新测评",
};
const DONE = {
  start: "会议已开始", next: "已进入下一项", back: "已后退一项", open: "投票已开启",
  close: "投票已结束", reveal: "结果已公布", pause: "会议已暂停", resume: "会议已继续",
  comment: "点评已保存", void: "本轮测评已作废，请重新开启投票",
};
const LOCK_MS = 1500; // the main button after each change of what it does, and after a click
const AUTOSAVE_MS = 1000; // the 点评 is saved this long after typing stops (and on blur)
const OFFLINE_REPLY = { t: "error", msg: "网络已断开，操作未发送，请稍后重试" };

let view = null;
let chairKey = null; // for the downloads and the addresses (plain HTTP, not the socket)
let grades = DEFAULT_GRADES; // the meeting's scale, from /api/meeting
let session = null;
let busy = false;
let paperCid = randomHex(16);
let paperRound = null;
let commentFor = null; // the step whose 点评 the box holds
let commentBy = ""; // who gave the 点评 in the box ("": the meeting names nobody)
const OTHER = "\u0000other"; // the 点评人 list's last choice: a name typed in
let commentDirty = false; // the chair has typed since the last save
let commentSaving = 0; // saves in flight: a view meanwhile may still hold the older text
let shownStep = null;
let shownMain = null; // what the main button did when last drawn
let lockedUntil = 0; // Date.now() ms until which the main button stays locked
let lockTimer = null;
let autosaveTimer = null;
let saving = Promise.resolve(true); // 点评 saves, one after another
let confirming = null; // "close" or "finish" while the confirmation dialog is open
const inflight = new Set(); // replies awaited: answered with an error if the socket drops

// ---- the key: ?key= once, then sessionStorage; or the form --------------------------------

const askForKey = keyForm(ui, ui.console, (key) => {
  show(ui.login, false);
  start(key);
});

function start(key) {
  chairKey = key;
  session = connect({
    hello: () => ({ t: "hello", role: "chair", key }),
    onStatus(state, reason) {
      showNetStatus(ui.net, state);
      if (state !== "online") {
        for (const done of [...inflight]) done(OFFLINE_REPLY); // no reply will come
        busy = false; // a request in flight when the socket dropped gets no reply: allow a retry
        ui["paper-submit"].disabled = !(view && view.round && view.round.status === "open");
        updateButtons();
      }
      if (state === "refused") {
        sessionStorage.removeItem(CHAIR_KEY_STORE);
        askForKey(reason === "bad_key" || !reason ? "主持人密钥不正确，请重新输入" : `无法连接：${reason}`);
      }
    },
    onMessage(msg) {
      if (msg.t === "welcome") {
        linkProjector(key);
        linkCounting(key);
        warnIfLoopback(key);
      }
      if (msg.t === "welcome" || msg.t === "view") {
        view = msg.view;
        show(ui.login, false);
        show(ui.console, true);
        render();
      } else if (msg.t === "error" && msg.id == null) {
        showError(msg);
      }
    },
  });
}

// The projector's link carries the screen key (it reads the room code, nothing else), never
// the chair key: the projector's address bar may be on the wall.
async function linkProjector(key) {
  if (!ui["screen-open"].hidden) return;
  try {
    const response = await fetch(at("/api/screen-link"), {
      headers: { Authorization: `Bearer ${key}` },
      cache: "no-store",
    });
    const body = await response.json();
    if (!response.ok || !body.url) return;
    ui["screen-link"].href = at(body.url);
    show(ui["screen-open"], true);
  } catch {
    // offline: the next welcome tries again
  }
}

// The counting station's links (计票台, 监票人) in the 纸质票录入 card: each carries its own key,
// derived from the chair key, never the chair key itself; the chair hands them out.
async function linkCounting(key) {
  if (!ui["count-links"].hidden) return;
  try {
    const response = await fetch(at("/api/count-links"), {
      headers: { Authorization: `Bearer ${key}` },
      cache: "no-store",
    });
    const body = await response.json();
    if (!response.ok || !body.count_url) return;
    ui["count-link"].href = at(body.count_url);
    ui["observer-link"].href = at(body.observer_url);
    show(ui["count-links"], true);
  } catch {
    // offline: the next welcome tries again
  }
}

// Cards printed for 127.0.0.1 or localhost open on no phone in the hall: say so, once.
let addressChecked = false;
async function warnIfLoopback(key) {
  if (addressChecked) return;
  try {
    const response = await fetch(at("/api/addresses"), {
      headers: { Authorization: `Bearer ${key}` },
      cache: "no-store",
    });
    const body = await response.json();
    if (!response.ok) return;
    addressChecked = true;
    if (!body.loopback) return;
    const lan = body.lan.length ? `（本机局域网地址：${body.lan.join("、")}，可用 --url 指定）` : "";
    setText(ui["address-warn"], `手机扫码地址 ${body.public_url} 仅本机可访问，会场手机无法打开：请以 pingyi serve --host 0.0.0.0 重新启动${lan}`);
    show(ui["address-warn"], true);
  } catch {
    // offline: the next welcome tries again
  }
}

// ---- 下载与打印: GET /api/download/{kind}, the same files as the commands ------------------

function renderDownloads() {
  show(ui["dl-cards-row"], view.meeting.join === "cards");
  const counted = Boolean(view.result) && !(view.round && view.round.status === "open");
  show(ui["dl-counted"], counted);
  show(ui["dl-later"], !counted);
}

async function download(button) {
  button.disabled = true;
  await downloadFile(button.dataset.kind, chairKey, ui[`${button.id}-result`]);
  button.disabled = false;
}

for (const button of ui.downloads.querySelectorAll("button[data-kind]")) {
  button.addEventListener("click", () => download(button));
}

// ---- sending --------------------------------------------------------------------------------

function showError(msg) {
  const text = msg ? msg.msg || msg.code : "";
  show(ui.error, Boolean(text));
  setText(ui.error, text ? `操作未执行：${text}` : "");
}

function flash(text) {
  setText(ui.flash, text);
}

// One request and its reply (an error reply if it could not be sent or the socket dropped).
function request(msg) {
  return new Promise((resolve) => {
    const done = (reply) => {
      inflight.delete(done);
      resolve(reply);
    };
    inflight.add(done);
    if (!session || !session.send(msg, done)) done(OFFLINE_REPLY);
  });
}

// A chair action. A 点评 typed but not yet saved is saved first, so 下一项 never loses it (a
// comment does not move the agenda, so the action's `expect` still holds after it).
async function act(action, extra = {}) {
  if (busy || !session || !view) return;
  const expect = view.agenda_v;
  busy = true;
  updateButtons();
  if (!(await saveComment())) { // also waits for an autosave still in flight
    busy = false;
    updateButtons();
    return;
  }
  const reply = await request({ t: "chair", action, expect, ...extra });
  busy = false;
  if (reply.t === "ok") {
    showError(null);
    flash(DONE[action] || "已完成");
  } else if (reply.t === "error") {
    showError(reply);
  }
  updateButtons();
}

// Saves the 点评 if it changed since the last save: true once it is saved.
function saveComment() {
  clearTimeout(autosaveTimer);
  saving = saving.then(async () => {
    if (!commentDirty) return true;
    const text = ui["comment-text"].value;
    commentDirty = false; // typing meanwhile makes it dirty again
    setText(ui["comment-saved"], "正在保存…");
    commentSaving += 1;
    const reply = await request({ t: "chair", action: "comment", text, by: commentBy });
    commentSaving -= 1;
    if (reply.t === "ok") {
      if (!commentDirty) setText(ui["comment-saved"], "已保存");
      return true;
    }
    showError(reply);
    if (reply.code === "refused") {
      // No longer a comment step (another console moved on): retrying cannot help, and the
      // chair's next action must not wait on it.
      setText(ui["comment-saved"], "未保存：已不在点评环节");
      return true;
    }
    commentDirty = true;
    setText(ui["comment-saved"], "未保存");
    return false;
  });
  return saving;
}

// ---- the main button's lock and the confirmation dialog ----------------------------------

function lockMain() {
  lockedUntil = Date.now() + LOCK_MS;
  clearTimeout(lockTimer);
  lockTimer = setTimeout(updateButtons, LOCK_MS + 20);
}

function isLastStep() {
  return view.step === plan(view).length - 1;
}

function percent(x) {
  return `${Math.round(x * 1000) / 10}%`;
}

// 结束投票 and 结束会议 (下一项 on the last step) are asked first: nothing undoes them; 重新测评
// asks for its reason.
function choose(action) {
  if (action === "close") openConfirm("close");
  else if (action === "next" && isLastStep()) openConfirm("finish");
  else if (action === "void") openVoid();
  else act(action);
}

function openVoid() {
  ui["void-reason"].value = "";
  show(ui["void-warn"], false);
  ui.void.returnValue = "";
  if (!ui.void.open) ui.void.showModal();
  ui["void-reason"].focus();
}

// The reason is required: 确认 with none keeps the dialog open and says so.
ui["void-ok"].addEventListener("click", (event) => {
  if (ui["void-reason"].value.trim()) return;
  event.preventDefault();
  setText(ui["void-warn"], "请写明重新测评的原因");
  show(ui["void-warn"], true);
  ui["void-reason"].focus();
});

ui["void-reason"].addEventListener("input", () => show(ui["void-warn"], false));

ui.void.addEventListener("close", () => {
  if (ui.void.returnValue !== "ok") return;
  act("void", { text: ui["void-reason"].value.trim() });
});

function openConfirm(kind) {
  confirming = kind;
  fillConfirm();
  ui.confirm.returnValue = "";
  if (!ui.confirm.open) ui.confirm.showModal();
  ui["confirm-cancel"].focus();
}

function fillConfirm() {
  const closing = confirming === "close";
  const t = view.turnout || { cast: 0, seats: 0, quorum: 0 };
  const quorum = t.quorum || 0;
  const rate = t.seats ? t.cast / t.seats : 0;
  setText(ui["confirm-title"], closing ? "确认结束投票？" : "确认结束会议？");
  setText(
    ui["confirm-text"],
    closing ? "结束后不能再投票，系统随即计票。" : "这是议程的最后一项：结束后会议即告结束，不能再后退。",
  );
  let line = `已投 ${t.cast} 票 / 应到 ${t.seats} 人，参评率 ${percent(rate)}`;
  line += quorum > 0 ? `；规定参评率不低于 ${percent(quorum)}` : "；未规定最低参评率";
  if (t.cast === 0) line += "（尚无人投票）";
  setText(ui["confirm-turnout"], line);
  const missed = rate < quorum;
  show(ui["confirm-warn"], missed);
  setText(ui["confirm-warn"], missed ? (closing ? "未达到规定参评率，将导致本次测评无效" : "未达到规定参评率，本次测评无效") : "");
  setText(ui["confirm-ok"], closing ? "确认结束投票" : "确认结束会议");
}

ui.confirm.addEventListener("close", () => {
  const kind = confirming;
  confirming = null;
  if (ui.confirm.returnValue !== "ok" || !kind) return;
  // Confirmed: `force` lets the server close a round with no ballot or opened seconds ago.
  if (kind === "close") act("close", { force: true });
  else act("next");
});

// ---- rendering ------------------------------------------------------------------------------

function reporterById(id) {
  return (view.reporters || []).find((r) => r.id === id) || { id, name: id, org: "" };
}

function stepText(step) {
  if (!step) return "结束会议";
  if (step.kind === "vote") return step.reporters.length > 1 ? "投票（全体述职人）" : `投票：${reporterById(step.reporters[0]).name}`;
  const [phase, name] = speaking(step, reporterById);
  return step.reporter ? `${name} ${phase}` : `${phase}：${name}`;
}

function render() {
  const m = view.meeting;
  setText(ui.title, m.title);
  setText(ui.meta, [m.date, m.place, m.join === "open" ? "开放入场" : "凭卡入场"].filter(Boolean).join(" · "));
  document.title = `${m.title} · 主持人控制台`;
  renderNow();
  updateButtons();
  if (confirming) fillConfirm(); // the turnout moves while the dialog is open
  renderComment();
  renderSteps();
  renderTurnout();
  renderUnseal();
  renderResult();
  renderPaper();
  renderDownloads();
}

function renderNow() {
  const round = view.round;
  let phase = { not_started: "会议未开始", finished: "会议已结束" }[view.state];
  const voting = view.phase === "vote" && round;
  const speaks = view.state === "running" && !voting && view.phase;
  const [spoken, who, second] = speaks ? speaking(currentStep(), reporterById) : ["", "", ""];
  if (!phase) phase = voting ? `投票 · ${roundLabel(round.status)}` : spoken || PHASES[view.phase] || "";
  setText(ui.phase, phase);
  show(ui.paused, view.paused);
  setText(ui.who, voting ? `评议 ${round.reporters.length} 位述职人` : who);
  setText(ui.org, second);
  tick();
}

function roundLabel(status) {
  return { ready: "待开启", open: "进行中", closed: "已结束（未公布）", revealed: "结果已公布" }[status] || "";
}

function tick() {
  if (!view) return;
  const running = view.state === "running";
  const clock = running ? stepClock(view.timer, view.budget) : { text: "--:--", over: false, label: "" };
  setText(ui.timer, clock.text);
  toggleClass(ui.timer, "overtime", clock.over);
  setText(ui["timer-label"], clock.label);
  show(ui["timer-label"], Boolean(clock.label));
  // The voting clock: how long the round has been open (a pause does not stop voting).
  const round = view.round;
  const open = Boolean(round && round.status === "open" && round.opened_at != null);
  show(ui["vote-clock"], open);
  if (open) setText(ui["vote-clock"], `投票已进行 ${mmss(Math.max(0, serverNow() - round.opened_at))}`);
}

function updateButtons() {
  if (!view) return;
  const actions = view.actions || [];
  const main = actions[0];
  const steps = plan(view);
  if (main !== shownMain) {
    if (shownMain !== null) lockMain(); // what the button does changed: a second click waits
    shownMain = main;
  }
  const locked = Date.now() < lockedUntil;
  ui["action-main"].disabled = busy || !main || locked;
  toggleClass(ui["action-main"], "locked", locked && Boolean(main));
  ui["action-main"].dataset.action = main || "";
  const finish = main === "next" && isLastStep();
  setText(ui["action-label"], finish ? "结束会议" : main ? LABELS[main] || main : "无可执行的操作");
  let hint = "";
  if (main === "next") hint = `进入：${stepText(steps[(view.step ?? -1) + 1])}`;
  if (main === "start") hint = `第一项：${stepText(steps[0])}`;
  if (main === "open") hint = "参会人即可在手机上填写述职评议表";
  if (main === "close") hint = `已投 ${(view.turnout || {}).cast || 0} 票，结束后将自动计票`;
  if (main === "reveal") hint = "在大屏和手机上公布评议结果";
  setText(ui["action-hint"], hint);
  syncList(
    ui["action-others"],
    actions.slice(1),
    (a) => a,
    (a) => h("button.btn", { type: "button", dataset: { action: a } }, LABELS[a] || a),
    (node) => {
      node.disabled = busy;
    },
  );
}

// The 点评 (or 讲话) saved on a step, as the view's `remarks` hold them.
function remarksOf(step) {
  const kind = step.kind === "speech" ? "speech" : step.reporter ? "comment" : "together";
  if (step.kind !== "comment" && step.kind !== "speech") return [];
  return (view.remarks || []).filter(
    (r) => r.kind === kind && r.reporter === (step.reporter || "") && r.text,
  );
}

function recordedText(step, by) {
  const kind = step.kind === "speech" ? "speech" : step.reporter ? "comment" : "together";
  const found = (view.remarks || []).find(
    (r) => r.kind === kind && r.reporter === (step.reporter || "") && r.by === by,
  );
  return found ? found.text : "";
}

function currentStep() {
  return { kind: view.phase, reporter: view.reporter, commenters: view.commenters || [] };
}

function renderComment() {
  const on = (view.phase === "comment" || view.phase === "speech") && view.state === "running";
  show(ui.comment, on);
  if (!on) return;
  const step = currentStep();
  const [, name] = speaking(step, reporterById);
  setText(ui["comment-title"], step.kind === "speech" ? "讲话" : step.reporter ? "点评意见" : "集中点评");
  setText(ui["comment-who"], name);
  const names = step.commenters;
  show(ui["comment-by-row"], names.length > 0);
  setText(ui["comment-by-row"].querySelector("label"), step.kind === "speech" ? "讲话人" : "点评人");
  if (commentFor !== view.step) {
    commentFor = view.step; // a new comment phase: start from what is recorded, if anything
    commentBy = names[0] || "";
    commentDirty = false;
    fillCommenters(names);
    ui["comment-text"].value = recordedText(step, commentBy);
  }
  if (commentSaving) return; // the view may not hold what is being saved yet
  const recorded = recordedText(step, commentBy);
  if (!commentDirty && ui["comment-text"].value !== recorded) {
    ui["comment-text"].value = recorded; // recorded elsewhere (another console, the HTTP API)
  }
  if (!commentDirty) setText(ui["comment-saved"], recorded ? "已保存" : "");
}

// The 点评人 list: the step's commenters (each marked once something of theirs is saved), and
// a last choice to type another name.
function fillCommenters(names) {
  const select = ui["comment-by"];
  select.replaceChildren(
    ...names.map((n) => h("option", { value: n }, n)),
    h("option", { value: OTHER }, currentStep().kind === "speech" ? "其他讲话人…" : "其他点评人…"),
  );
  select.value = commentBy;
  ui["comment-other"].value = "";
  show(ui["comment-other"], false);
  ui["comment-text"].disabled = false;
}

// Switching to another commenter saves what the box holds under the one before.
async function switchCommenter(by) {
  if (!(await saveComment())) return;
  commentBy = by;
  commentDirty = false;
  ui["comment-text"].value = recordedText(currentStep(), by);
  setText(ui["comment-saved"], ui["comment-text"].value ? "已保存" : "");
}

function renderSteps() {
  const steps = plan(view);
  const position = view.state === "finished" ? steps.length : view.step ?? -1;
  syncList(
    ui.steps,
    steps.map((s, i) => ({ ...s, i })),
    (s) => s.i,
    () => h("li", {}, h("span.n.num"), h("span.what"), h("span.note")),
    (node, s) => {
      setText(node.querySelector(".n"), s.i + 1);
      setText(node.querySelector(".what"), stepText(s));
      const saved = remarksOf(s).length > 0;
      setText(node.querySelector(".note"), saved ? (s.kind === "speech" ? "已记录讲话" : "已记录点评") : "");
      toggleClass(node, "done", s.i < position);
      toggleClass(node, "current", s.i === position);
    },
  );
  if (shownStep !== position) {
    shownStep = position; // keep the current step in sight in the scrolling list
    const current = ui.steps.querySelector("li.current");
    if (current) ui.steps.scrollTop = Math.max(0, current.offsetTop - ui.steps.offsetTop - 80);
  }
  const written = (view.reporters || []).filter((r) => r.mode === "written");
  ui.steps.dataset.written = written.length ? `书面述职：${written.map((r) => r.name).join("、")}` : "";
}

function renderTurnout() {
  const t = view.turnout || { cast: 0, seats: 0, groups: [] };
  setText(ui["turnout-total"], `${t.cast} / ${t.seats}`);
  const round = view.round;
  let status = round ? `本轮投票${roundLabel(round.status)}` : "尚未进入投票环节";
  const voided = (round && round.voided) || [];
  if (voided.length) status += `（已重新测评：此前${voided.length}次测评作废，原因：${voided.map((v) => v.reason).join("；")}）`;
  // Open mode: the phones registered per voter group, against its seats (a group filling up
  // faster than its people is the sign of one phone joining many times).
  const joined = (t.groups || []).map((g) => `${g.name} ${(view.joined || {})[g.id] || 0}/${g.seats}`);
  setText(ui["round-status"], view.meeting.join === "open" ? `${status} · 已登记手机：${joined.join("，")}` : status);
  syncTurnoutBars(ui.groups, t.groups);
}

function countsTable(head, body, grades, rows, extra) {
  const blank = extra.length ? ["弃权/废"] : [];
  if (head.childElementCount !== grades.length + 1 + blank.length + extra.length) {
    head.replaceChildren(h("th", {}, "述职人"), ...[...grades, ...blank, ...extra].map((x) => h("th", {}, x)));
  }
  syncList(
    body,
    rows,
    (r) => r.id,
    () => h("tr"),
    (node, r) => {
      const cells = [r.name, ...grades.map((g) => r.counts[g] || 0), ...(blank.length ? [r.blank] : []), ...r.extra];
      if (node.childElementCount !== cells.length) node.replaceChildren(...cells.map(() => h("td")));
      cells.forEach((value, i) => {
        const cell = node.children[i];
        if (value && typeof value === "object") {
          const badge = cell.querySelector(".grade") || cell.appendChild(h("span.grade"));
          setText(badge, value.grade);
          badge.className = `grade ${value.cls}`;
        } else setText(cell, value);
      });
    },
  );
}

function renderUnseal() {
  const waiting = view.awaiting_teller || [];
  show(ui["unseal-card"], waiting.length > 0);
}

// A 三评 meeting's result (issue 17), compactly: per reporter (in composite_rank order) each
// group's score, 群众测评, each other source ("缺" when missing: its weight spread over the
// others), 综合得分 and 测评等次 with the reason. Rows carry data-reporter, cells data-col.
function compositeTable(result) {
  const appraisal = result.appraisal;
  const grades = appraisal.grades || result.grades || DEFAULT_GRADES;
  const sources = appraisal.sources || [];
  const groups = (result.groups || []).map((g) => ({ col: g.id, name: g.name, kind: "group" }));
  const cols = [
    ...groups,
    { col: "vote", name: (sources.find((x) => x.id === "vote") || {}).name || "群众测评", kind: "vote" },
    ...sources.filter((x) => x.id !== "vote").map((x) => ({ col: x.id, name: x.name || x.id, kind: "source" })),
    { col: "composite", name: "综合得分", kind: "composite" },
  ];
  const weightOf = (c) => {
    const x = sources.find((y) => y.id === c.col);
    return x && x.weight != null ? `×${x.weight}` : "";
  };
  const signature = cols.map((c) => c.col).join("|");
  const head = ui["result-head"];
  if (head.dataset.cols !== signature) {
    head.dataset.cols = signature;
    head.replaceChildren(
      h("th", {}, "述职人"),
      ...cols.map((c) => h("th", { dataset: { col: c.col } }, c.name, weightOf(c) ? h("small", {}, ` ${weightOf(c)}`) : null)),
      h("th", { dataset: { col: "grade" } }, "测评等次"),
      h("th", {}, "依据"),
    );
  }
  const score = (x) => (x == null ? null : Number(x).toFixed(2));
  const value = (r, c) => {
    if (c.kind === "group") return score(((r.by_group || {})[c.col] || {}).score);
    if (c.kind === "vote") return score(r.vote_score ?? (r.sources || {}).vote);
    if (c.kind === "source") return score((r.sources || {})[c.col]);
    return score(r.composite_score);
  };
  const rank = (r) => (r.composite_rank == null ? Infinity : r.composite_rank);
  const rows = [...(result.reporters || [])].sort((a, b) => rank(a) - rank(b));
  syncList(
    ui["result-body"],
    rows,
    (r) => r.id,
    (r) => h("tr", { dataset: { reporter: r.id } }),
    (node, r) => {
      if (node.childElementCount !== cols.length + 3) {
        node.replaceChildren(
          h("td"),
          ...cols.map((c) => h(`td.num.sp-${c.kind}`, { dataset: { col: c.col } })),
          h("td", { dataset: { col: "grade" } }, h("span.grade")),
          h("td.sp-why"),
        );
      }
      const cells = node.children;
      setText(cells[0], `${r.composite_rank ?? ""} ${r.name}`.trim());
      cols.forEach((c, i) => {
        const v = value(r, c);
        const missing = v == null && c.kind === "source";
        setText(cells[i + 1], missing ? "缺" : v ?? "—");
        toggleClass(cells[i + 1], "sp-missing", missing);
      });
      const badge = cells[cols.length + 1].querySelector(".grade");
      setText(badge, r.composite_grade || "待定");
      badge.className = `grade ${gradeClass(grades, r.composite_grade)}`;
      setText(cells[cols.length + 2], r.composite_decided_by || "");
    },
  );
}

function renderResult() {
  const result = view.result;
  show(ui["result-card"], Boolean(result));
  if (!result) return;
  const revealed = view.round && view.round.status === "revealed";
  setText(ui["result-state"], revealed || view.state === "finished" ? "已公布" : "尚未公布");
  const grades = result.grades || DEFAULT_GRADES;
  if (result.appraisal) compositeTable(result);
  else if (ui["result-head"].dataset.cols) delete ui["result-head"].dataset.cols;
  const rows = result.appraisal ? [] : (result.reporters || []).map((r) => {
    const badge = { grade: r.final_grade || "待定", cls: gradeClass(grades, r.final_grade) };
    return {
      id: r.id, name: r.name, counts: r.counts || {}, blank: (r.abstain || 0) + (r.invalid || 0),
      extra: [r.score == null ? "—" : r.score.toFixed(2), badge, r.decided_by || ""],
    };
  });
  if (!result.appraisal) countsTable(ui["result-head"], ui["result-body"], grades, rows, ["得分", "测评等次", "依据"]);
  const notes = (result.undecided || []).map((u) => `待会议决定：${u.reporters.map((id) => reporterById(id).name).join("、")} — ${u.why}`);
  if (result.valid === false) notes.unshift("未达到规定的参会比例，本次测评无效");
  show(ui.undecided, notes.length > 0);
  setText(ui.undecided, notes.join("；"));
}

function renderPaper() {
  const round = view.round;
  const open = Boolean(round && round.status === "open");
  ui["paper-submit"].disabled = !open;
  setText(ui["paper-hint"], open ? "手机无法投票时，参会人填写纸质述职评议表，由会务人员凭参会卡短码录入；该卡随即作废，已投票的卡将被拒绝。" : "投票开启后可录入纸质票。");
  show(ui["paper-form"], open);
  if (!open) return;
  if (paperRound !== round.id) {
    paperRound = round.id;
    ui["paper-marks"].replaceChildren();
  }
  const choices = [...grades, "废", ""];
  syncList(
    ui["paper-marks"],
    round.reporters.map(reporterById),
    (r) => r.id,
    (r) =>
      h(
        "li",
        {},
        h("span.name", {}, r.name),
        h("span.opts", {}, choices.map((g) =>
          h("label", {}, h("input", { type: "radio", name: `paper-${r.id}`, value: g }), g || "弃权"))),
      ),
    () => {},
  );
}

// ---- input ----------------------------------------------------------------------------------

ui["action-main"].addEventListener("click", () => {
  const action = ui["action-main"].dataset.action;
  if (!action || ui["action-main"].disabled || Date.now() < lockedUntil) return;
  lockMain();
  updateButtons();
  choose(action);
});

ui["action-others"].addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (button) choose(button.dataset.action);
});

ui["comment-save"].addEventListener("click", () => {
  commentDirty = true; // save now, even what is already saved
  saveComment().then((ok) => {
    if (ok) flash(DONE.comment);
  });
});

ui["comment-text"].addEventListener("input", () => {
  commentDirty = true;
  setText(ui["comment-saved"], "未保存");
  clearTimeout(autosaveTimer);
  autosaveTimer = setTimeout(saveComment, AUTOSAVE_MS);
});

ui["comment-by"].addEventListener("change", () => {
  const other = ui["comment-by"].value === OTHER;
  show(ui["comment-other"], other);
  ui["comment-text"].disabled = other && !ui["comment-other"].value.trim();
  if (other) {
    ui["comment-other"].focus();
    if (ui["comment-other"].value.trim()) switchCommenter(ui["comment-other"].value.trim());
  } else {
    switchCommenter(ui["comment-by"].value);
  }
});

ui["comment-other"].addEventListener("input", () => {
  ui["comment-text"].disabled = !ui["comment-other"].value.trim();
});

ui["comment-other"].addEventListener("change", () => {
  const name = ui["comment-other"].value.trim();
  if (name) switchCommenter(name);
});

ui["comment-text"].addEventListener("blur", () => {
  if (commentDirty) saveComment();
});

ui["paper-form"].addEventListener("submit", (event) => {
  event.preventDefault();
  if (!view || !view.round || !session) return;
  // Nothing is preset: a row the teller missed must not turn into 弃权 silently.
  const marks = {};
  const missing = [];
  for (const id of view.round.reporters) {
    const picked = ui["paper-form"].querySelector(`input[name="paper-${id}"]:checked`);
    if (!picked) missing.push(id);
    else marks[id] = picked.value || null;
  }
  if (missing.length) {
    const names = missing.map((id) => reporterById(id).name).join("、");
    setText(ui["paper-result"], `未录入：请按纸质票为每位述职人选一项（未填写的选“弃权”）：${names}`);
    ui["paper-result"].className = "paper-result bad";
    ui["paper-form"].querySelector(`input[name="paper-${missing[0]}"]`).focus();
    return;
  }
  const code = ui["paper-code"].value.trim();
  ui["paper-submit"].disabled = true;
  const sent = session.send({ t: "paper", code, round: view.round.id, marks, cid: paperCid }, (reply) => {
    ui["paper-submit"].disabled = false;
    if (reply.t === "receipt") {
      setText(ui["paper-result"], `已录入 ${code}，回执编号 ${reply.receipt}${reply.again ? "（重复提交）" : ""}`);
      ui["paper-result"].className = "paper-result ok";
      paperCid = randomHex(16);
      ui["paper-form"].reset();
    } else if (reply.t === "error") {
      setText(ui["paper-result"], `未录入：${reply.msg || reply.code}`);
      ui["paper-result"].className = "paper-result bad";
    }
  });
  if (!sent) {
    ui["paper-submit"].disabled = false;
    setText(ui["paper-result"], "网络已断开，未录入，请稍后重试");
    ui["paper-result"].className = "paper-result bad";
  }
});

ui["unseal-form"].addEventListener("submit", (event) => {
  event.preventDefault();
  if (!session) return;
  ui["unseal-submit"].disabled = true;
  const sent = session.send({ t: "unseal", teller_key: ui["unseal-key"].value }, (reply) => {
    ui["unseal-submit"].disabled = false;
    if (reply.t === "ok") {
      setText(ui["unseal-result"], "已开启，正在计票");
      ui["unseal-result"].className = "paper-result ok";
      ui["unseal-form"].reset();
    } else if (reply.t === "error") {
      setText(ui["unseal-result"], reply.msg || reply.code);
      ui["unseal-result"].className = "paper-result bad";
    }
  });
  if (!sent) {
    ui["unseal-submit"].disabled = false;
    setText(ui["unseal-result"], "网络已断开，请稍后重试");
    ui["unseal-result"].className = "paper-result bad";
  }
});

ui["paper-code"].addEventListener("input", () => {
  paperCid = randomHex(16); // another card: another ballot
});

setInterval(tick, 250);

let meetingInfo = null; // /api/meeting: the reporters for the panel card's score entry

fetchMeeting().then((meeting) => {
  meetingInfo = meeting;
  if (meeting && Array.isArray(meeting.grades) && meeting.grades.length) {
    grades = meeting.grades;
    paperRound = null; // rebuild the paper form with the meeting's own scale
    if (view) render();
  }
});

const key = takeKeyFromUrl(CHAIR_KEY_STORE);
if (key) start(key);
else askForKey("");
mountPanel(ui, () => chairKey, () => meetingInfo); // 专家评分与项目指标 (a 三评 meeting only)
