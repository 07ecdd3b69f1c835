// The counting station (/count, 计票台): the reconciliation panel of the paper count, live
// (GET /api/count every 2 s), and, for the 计票人 (the count key, or the chair key), the double
// entry of paper ballots and the 回收 figures. Each paper ballot is typed twice (第一遍, then
// 第二遍, the first hidden meanwhile); only when both agree is it sent (POST /api/count/paper).
// When they differ both are shown side by side, the differing rows marked, and the clerk
// takes one after checking the paper, or types both again: nothing is stored before that.
// The 监票人's key (the observer key) opens the same panel read-only.
import { callWithKey, h, randomHex, setText, show, syncList, takeKeyFromUrl, toggleClass } from "/static/common.js";

const KEY_STORE = "pingyi:count-key"; // never the chair's store: this page may hold a lesser key
const POLL_MS = 2000;
const ui = Object.fromEntries([...document.querySelectorAll("[id]")].map((n) => [n.id, n]));

let key = null;
let role = null;
let view = null;
let pollTimer = null;
let formRound = null; // the round the entry form was built for
let first = null; // the first entry of the ballot in hand, hidden until the second is typed
let versions = null; // [first, second] while they disagree
let sending = false;
const cids = new Map(); // card code -> ballot id: sending a ballot again is the same ballot
const dirty = new Set(); // 回收 inputs typed in and not yet saved

// ---- the key ---------------------------------------------------------------------------------

ui.login.addEventListener("submit", (event) => {
  event.preventDefault();
  const typed = ui.key.value.trim();
  if (!typed) return;
  sessionStorage.setItem(KEY_STORE, typed);
  key = typed;
  refresh();
});

function askForKey(message) {
  clearTimeout(pollTimer);
  show(ui.station, false);
  show(ui.login, true);
  show(ui["login-error"], Boolean(message));
  setText(ui["login-error"], message || "");
  ui.key.focus();
}

const call = (path, body) => callWithKey(path, key, body, "网络已断开，请稍后重试");

const errorText = (body) => (body.error && (body.error.msg || body.error.code)) || "未知错误";

// ---- the panel -------------------------------------------------------------------------------

async function refresh() {
  clearTimeout(pollTimer);
  const { status, body } = await call("/api/count");
  if (status === 401) {
    sessionStorage.removeItem(KEY_STORE);
    askForKey("计票台密钥不正确，请重新输入，或从主持人提供的链接打开");
    return;
  }
  pollTimer = setTimeout(refresh, POLL_MS);
  show(ui.net, status !== 200);
  if (status !== 200) {
    setText(ui.net, status === 0 ? "网络已断开，正在重连…" : errorText(body));
    return;
  }
  role = body.role;
  view = body.view;
  show(ui.login, false);
  show(ui.station, true);
  render();
}

const ROUND_STATES = { open: "投票进行中", closed: "投票已结束", revealed: "结果已公布" };

function render() {
  const meeting = view.meeting;
  setText(ui.title, meeting.title);
  setText(ui.meta, [meeting.date, meeting.place].filter(Boolean).join(" · "));
  const observer = role === "observer";
  setText(ui.badge, observer ? "计票台 · 监票人" : "计票台 · 计票人");
  show(ui["observer-note"], observer);
  show(ui["entry-col"], !observer);
  toggleClass(ui.station, "read-only", observer);
  const round = view.round;
  setText(ui["round-state"], round ? ROUND_STATES[round.status] || round.status : "尚未开启投票");
  renderTable();
  if (!observer) {
    renderEntry();
    renderReturned();
  }
}

const shown = (n, none) => (n == null ? none : String(n));

function fillRow(cells, g) {
  setText(cells[1], g.seats);
  setText(cells[2], g.phone);
  setText(cells[3], g.paper);
  setText(cells[4], shown(g.returned, "未填"));
  setText(cells[5], shown(g.spoiled, "计票后"));
  setText(cells[6], g.not_returned);
}

function renderTable() {
  syncList(
    ui["reconcile-body"],
    view.groups,
    (g) => g.id,
    () => h("tr", {}, h("th", { scope: "row" }), h("td.num"), h("td.num"), h("td.num"), h("td.num"), h("td.num"), h("td.num")),
    (node, g) => {
      setText(node.children[0], g.name);
      fillRow(node.children, g);
      toggleClass(node, "warn", g.warnings.length > 0);
    },
  );
  const total = ui["reconcile-total"].children;
  fillRow(total, view.totals);
  for (const cell of [...total].slice(1)) toggleClass(cell, "num", true);
  syncList(
    ui.warnings,
    view.warnings,
    (text) => text,
    (text) => h("p.warning", {}, `⚠ ${text}`),
    () => {},
  );
}

// ---- double entry ----------------------------------------------------------------------------

const MARK_TEXT = (mark) => (mark == null || mark === "" ? "弃权" : mark);
const normalCode = (code) => code.toUpperCase().replace(/[\s-]/g, "");

function renderEntry() {
  const round = view.round;
  const open = Boolean(round && round.status === "open");
  ui["entry-submit"].disabled = !open || sending;
  for (const node of [ui["entry-code"], ui["entry-spoiled"]]) node.disabled = !open;
  if (!open) {
    setText(ui["entry-hint"], round ? "本轮投票已结束，不能再录入纸质票。" : "投票开启后可录入纸质票。");
    ui["entry-marks"].replaceChildren();
    formRound = null;
    return;
  }
  setText(ui["entry-hint"], "每张纸质票录入两遍（两人各录一遍，或一人录两遍），两遍一致才保存。");
  if (formRound === round.id) return;
  formRound = round.id;
  resetBallot();
  const choices = [...view.grades, "废", ""];
  ui["entry-marks"].replaceChildren(
    ...round.reporters.map((r) =>
      h(
        "li",
        {},
        h("span.name", { id: `entry-name-${r.id}` }, r.name),
        h(
          "span.opts",
          { role: "radiogroup", "aria-labelledby": `entry-name-${r.id}` },
          choices.map((g) =>
            h("label", {}, h("input", { type: "radio", name: `entry-${r.id}`, value: g }), MARK_TEXT(g)),
          ),
        ),
      ),
    ),
  );
}

function readForm() {
  const code = ui["entry-code"].value.trim();
  if (!normalCode(code)) return { error: "请输入参会卡短码", focus: ui["entry-code"] };
  const spoiled = ui["entry-spoiled"].checked;
  const marks = {};
  const missing = [];
  for (const r of view.round.reporters) {
    if (spoiled) {
      marks[r.id] = "废";
      continue;
    }
    const picked = ui["entry-form"].querySelector(`input[name="entry-${r.id}"]:checked`);
    if (!picked) missing.push(r);
    else marks[r.id] = picked.value || null;
  }
  if (missing.length) {
    const names = missing.map((r) => r.name).join("、");
    const focus = ui["entry-form"].querySelector(`input[name="entry-${missing[0].id}"]`);
    return { error: `请按纸质票为每位述职人选一项（未填写的选“弃权”）：${names}`, focus };
  }
  return { version: { code, spoiled, marks } };
}

function clearForm() {
  ui["entry-form"].reset();
  syncSpoiled();
}

function syncSpoiled() {
  const spoiled = ui["entry-spoiled"].checked;
  for (const input of ui["entry-marks"].querySelectorAll("input")) input.disabled = spoiled;
}

function resetBallot() {
  first = null;
  versions = null;
  clearForm();
  show(ui["entry-form"], true);
  show(ui.compare, false);
  show(ui["entry-restart"], false);
  setText(ui["entry-title"], "第一遍录入");
  setText(ui["entry-submit"], "第一遍录入");
}

function say(text, good) {
  setText(ui["entry-result"], text);
  ui["entry-result"].className = `paper-result ${good == null ? "" : good ? "ok" : "bad"}`;
}

function same(a, b) {
  if (normalCode(a.code) !== normalCode(b.code) || a.spoiled !== b.spoiled) return false;
  return view.round.reporters.every((r) => (a.marks[r.id] ?? null) === (b.marks[r.id] ?? null));
}

ui["entry-spoiled"].addEventListener("change", syncSpoiled);

ui["entry-form"].addEventListener("submit", (event) => {
  event.preventDefault();
  if (!view || !view.round || view.round.status !== "open" || sending) return;
  const { version, error, focus } = readForm();
  if (error) {
    say(`未录入：${error}`, false);
    if (focus) focus.focus();
    return;
  }
  if (first === null) {
    first = version;
    clearForm();
    setText(ui["entry-title"], "第二遍录入");
    setText(ui["entry-submit"], "第二遍录入");
    show(ui["entry-restart"], true);
    say("第一遍已记下（不显示）。请再录入一遍同一张纸质票：两遍一致才保存。", null);
    ui["entry-code"].focus();
    return;
  }
  if (same(first, version)) {
    send(version);
    return;
  }
  versions = [first, version];
  showVersions();
});

function showVersions() {
  const [one, two] = versions;
  const rows = [
    ["参会卡短码", one.code, two.code, normalCode(one.code) !== normalCode(two.code)],
    ["整张废票", one.spoiled ? "是" : "否", two.spoiled ? "是" : "否", one.spoiled !== two.spoiled],
    ...view.round.reporters.map((r) => {
      const a = one.marks[r.id] ?? null;
      const b = two.marks[r.id] ?? null;
      return [r.name, MARK_TEXT(a), MARK_TEXT(b), a !== b];
    }),
  ];
  ui["versions-body"].replaceChildren(
    ...rows.map(([label, a, b, differs]) =>
      h(
        `tr${differs ? ".diff" : ""}`,
        {},
        h("th", { scope: "row" }, label, differs ? h("span.diff-tag", {}, "不一致") : null),
        h("td", {}, a),
        h("td", {}, b),
      ),
    ),
  );
  show(ui["entry-form"], false);
  show(ui.compare, true);
  say("", null);
  ui["take-first"].focus();
}

async function send(version) {
  sending = true;
  ui["entry-submit"].disabled = true;
  for (const id of ["take-first", "take-second", "retype"]) ui[id].disabled = true;
  const code = version.code;
  const norm = normalCode(code);
  if (!cids.has(norm)) cids.set(norm, randomHex(16));
  say("正在录入…", null);
  const { status, body } = await call("/api/count/paper", {
    code, round: view.round.id, marks: version.marks, cid: cids.get(norm),
  });
  sending = false;
  ui["entry-submit"].disabled = false;
  for (const id of ["take-first", "take-second", "retype"]) ui[id].disabled = false;
  if (status === 200) {
    cids.delete(norm);
    resetBallot();
    say(`已录入 ${code}，回执编号 ${body.receipt}${body.again ? "（此前已录入）" : ""}`, true);
    ui["entered-list"].prepend(h("li", {}, h("span.code", {}, code), h("span.receipt", {}, `回执 ${body.receipt}`)));
    while (ui["entered-list"].children.length > 30) ui["entered-list"].lastChild.remove();
    ui["entry-code"].focus();
    refresh();
    return;
  }
  if (status === 0 || status === 503) {
    // Not known whether it was stored: the same ballot sent again gets the same receipt.
    if (!versions) {
      versions = null;
      first = null;
    }
    say(`未录入：${errorText(body)}（纸质票请保留，稍后重新录入两遍即可，不会重复计票）`, false);
    if (!versions) resetBallot();
    return;
  }
  resetBallot();
  say(`未录入 ${code}：${errorText(body)}`, false);
}

ui["take-first"].addEventListener("click", () => versions && send(versions[0]));
ui["take-second"].addEventListener("click", () => versions && send(versions[1]));
ui.retype.addEventListener("click", () => {
  resetBallot();
  say("请重新录入这张纸质票（两遍）。", null);
  ui["entry-code"].focus();
});
ui["entry-restart"].addEventListener("click", () => {
  resetBallot();
  say("已放弃第一遍，请重新录入这张纸质票。", null);
  ui["entry-code"].focus();
});

// ---- 回收: the paper ballots found in the box, per group -----------------------------------

function renderReturned() {
  const round = view.round;
  show(ui["returned-list"], Boolean(round));
  if (!round) return;
  syncList(
    ui["returned-list"],
    view.groups,
    (g) => g.id,
    (g) => {
      const input = h("input", { type: "number", id: `returned-${g.id}`, min: "0", step: "1", inputMode: "numeric" });
      input.addEventListener("input", () => dirty.add(g.id));
      const button = h("button.btn", { type: "button", id: `returned-save-${g.id}` }, "保存");
      button.addEventListener("click", () => saveReturned(g.id, input));
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") saveReturned(g.id, input);
      });
      return h("li", {}, h("label", { htmlFor: `returned-${g.id}` }, g.name), input, h("span.by"), button);
    },
    (node, g) => {
      const input = node.querySelector("input");
      if (!dirty.has(g.id) && document.activeElement !== input) {
        const value = g.returned == null ? "" : String(g.returned);
        if (input.value !== value) input.value = value;
      }
      setText(node.querySelector(".by"), g.returned == null ? "未填" : g.returned_by ? `已保存（${g.returned_by}）` : "已保存");
    },
  );
}

async function saveReturned(group, input) {
  const text = input.value.trim();
  const count = Number(text);
  const out = ui["returned-result"];
  const name = view.groups.find((g) => g.id === group).name;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(count)) {
    out.className = "paper-result bad";
    setText(out, `未保存：${name}的回收票数应为0或正整数`);
    input.focus();
    return;
  }
  const { status, body } = await call("/api/count/returned", { group, count, by: ui["returned-by"].value.trim() });
  if (status === 200) {
    dirty.delete(group);
    out.className = "paper-result ok";
    setText(out, `已保存：${name}回收 ${count} 张`);
    refresh();
  } else {
    out.className = "paper-result bad";
    setText(out, `未保存：${errorText(body)}`);
  }
}

// ---- start -----------------------------------------------------------------------------------

key = takeKeyFromUrl(KEY_STORE);
if (key) refresh();
else askForKey("");
