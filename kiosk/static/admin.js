// The season page (/admin, at a deployment's root): the organisation department's 汇总 of every
// meeting of organisation.toml (GET /api/admin/season, behind the admin key), reloaded every
// 10 s: where each meeting stands with its 7-day 备案 clock and what is late, the upload of a
// 备案 package for a meeting held elsewhere (POST /api/admin/package), the results by level,
// the 倒排, every reporter with their earlier seasons, and each unit's feedback link.
import { at, callWithKey, h, keyForm, setText, show, syncList, takeKeyFromUrl } from "/static/common.js";

const STORE = "pingyi:admin-key";
const VIA = { hosted: "本系统举行", package: "离线举行，上传备案" };
const RELOAD_MS = 10_000;

const ui = Object.fromEntries([...document.querySelectorAll("[id]")].map((n) => [n.id, n]));
let key = null;
let season = null;
let loading = false;
let again = false;

const askForKey = keyForm(ui, ui.admin, (typed) => {
  key = typed;
  load();
}, STORE);

function forgetKey(message = "密钥不正确，请重新输入") {
  key = null;
  sessionStorage.removeItem(STORE);
  show(ui.error, false);
  askForKey(message);
}

async function load() {
  if (!key) return;
  if (loading) {
    again = true; // an upload finished meanwhile: read once more when this read is done
    return;
  }
  loading = true;
  const { status, body } = await callWithKey("/api/admin/season", key, null,
    "网络已断开，显示的是上次读取的情况，稍后自动重试");
  loading = false;
  if (status === 401) {
    forgetKey();
    return;
  }
  if (status !== 200) {
    show(ui.error, true);
    setText(ui.error, (body.error && body.error.msg) || `无法读取（HTTP ${status}）`);
  } else {
    show(ui.error, false);
    season = body;
    show(ui.login, false);
    show(ui.admin, true);
    render();
  }
  if (again) {
    again = false;
    load();
  }
}

const orDash = (text) => text || "—";
const vote = (grade) => grade || "待定";
const final = (grade) => grade || "未确定";
const seasonName = (id) => (/^\d{4}$/.test(id) ? `${id}年度` : id);

function render() {
  const s = season.season;
  setText(ui.title, `述职评议汇总 · ${s.name}`);
  setText(ui.meta, `全部完成期限：${s.deadline} · 今天：${season.today} · 会议召开后${s.filing_days}日内备案`);
  document.title = `述职评议汇总 · ${s.name}`;
  const late = season.late || 0;
  setText(ui["late-count"], late > 0 ? `逾期 ${late} 项` : "没有逾期");
  ui["late-count"].className = `late-count ${late > 0 ? "warn" : "calm"}`;
  const stages = new Map();
  for (const m of season.meetings) stages.set(m.stage_name, (stages.get(m.stage_name) || 0) + 1);
  setText(ui.progress, `共 ${season.meetings.length} 场会议：${[...stages].map(([name, n]) => `${name} ${n} 场`).join("，") || "无"}`);
  renderMeetings();
  renderRollup();
  renderBottom();
  renderRows();
  renderUnits();
}

// ---- the meetings ---------------------------------------------------------------------------

function renderMeetings() {
  syncList(ui["meetings-body"], season.meetings, (m) => m.meeting, meetingRow, (row, m) => {
    const cells = row.children;
    row.classList.toggle("late", Boolean(m.late));
    setText(cells[0], m.unit);
    setText(cells[1], m.level);
    setText(cells[2], VIA[m.via] || m.via);
    setText(cells[3], m.stage_name);
    setText(cells[4], orDash(m.planned_on));
    setText(cells[5], orDash(m.held_on));
    setText(cells[6].firstChild, orDash(m.filing_deadline));
    const left = m.stage === "filed" || m.days_left == null ? ""
      : m.days_left >= 0 ? `还剩${m.days_left}天` : `已过${-m.days_left}天`;
    setText(cells[6].lastChild, left);
    cells[6].lastChild.classList.toggle("over", m.days_left != null && m.days_left < 0);
    setText(cells[7], m.note);
    if (m.via === "hosted") updateLinks(cells[8], m);
  });
}

function meetingRow(m) {
  const actions = h("td.actions");
  if (m.via === "hosted") {
    actions.append(
      h("p.hint.meeting-title"),
      h("div.links", {},
        h("a.btn.chair-link", { target: "_blank", rel: "noopener" }, "主持台"),
        h("a.btn.after-link", { target: "_blank", rel: "noopener" }, "会后页面")),
    );
  } else {
    actions.append(uploadControl(m));
  }
  return h("tr", { dataset: { meeting: m.meeting } },
    h("th", { scope: "row" }), h("td"), h("td"), h("td.stage"), h("td.num"), h("td.num"),
    h("td.deadline", {}, h("span.date.num"), h("span.left")),
    h("td.note"), actions);
}

// The links carry the chair key and the meeting's prefix already: used as they are.
function updateLinks(cell, m) {
  setText(cell.querySelector(".meeting-title"), m.title || "");
  for (const [selector, url] of [[".chair-link", m.chair_url], [".after-link", m.after_url]]) {
    const link = cell.querySelector(selector);
    show(link, Boolean(url));
    if (url && link.getAttribute("href") !== url) link.setAttribute("href", url);
  }
}

function uploadControl(m) {
  const id = `package-${m.meeting}`;
  const input = h("input", { type: "file", id, accept: ".zip" });
  const button = h("button.btn.primary.upload-button", { type: "button" }, "上传备案包");
  const out = h("p.upload-result", { role: "status" });
  const report = h("details.upload-report", { hidden: true }, h("summary", {}, "核验报告"), h("p.report-text"));
  button.addEventListener("click", () => upload(m.meeting, input, button, out, report));
  return h("div.upload", {},
    h("label", { htmlFor: id }, `${m.unit}的备案包（.zip 文件）`), input, button, out, report);
}

function uploadSays(out, kind, text) {
  out.className = `upload-result${kind ? ` ${kind}` : ""}`;
  out.setAttribute("role", kind === "bad" ? "alert" : "status");
  setText(out, text);
}

// The file's bytes as they are (a zip), with the admin key; the server verifies it and keeps
// it only when every check passes, else it says which failed.
async function upload(meetingId, input, button, out, report) {
  const file = input.files && input.files[0];
  show(report, false);
  if (!file) {
    uploadSays(out, "bad", "未接收：请先选择备案包文件（.zip）");
    input.focus();
    return;
  }
  button.disabled = true;
  uploadSays(out, "", "正在上传并核验，请稍候…");
  let status = 0;
  let body = {};
  try {
    const response = await fetch(at(`/api/admin/package?meeting=${encodeURIComponent(meetingId)}`), {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/zip" },
      body: file,
      cache: "no-store",
    });
    status = response.status;
    body = await response.json().catch(() => ({}));
  } catch {
    body = { error: { msg: "网络已断开，未上传，请稍后重试" } };
  }
  button.disabled = false;
  if (status === 200 && body.ok) {
    const replaced = body.replaced ? "；替换了此前上传的备案包（原包已保留）" : "";
    uploadSays(out, "ok", `已接收：${body.title}（核验通过${replaced}）`);
    if (body.report) {
      setText(report.querySelector(".report-text"), body.report);
      show(report, true);
    }
    input.value = "";
  } else if (status === 401) {
    uploadSays(out, "bad", "未接收：密钥不正确");
    forgetKey();
    return;
  } else {
    uploadSays(out, "bad", `未接收：${(body.error && body.error.msg) || `HTTP ${status}`}`);
  }
  load();
}

// ---- by level -------------------------------------------------------------------------------

// One row per level (and, where the meeting files give reporters a category, per category):
// 述职人数, then a count per 测评等次 and per 综合评价等次 (the grades seen, in the order first
// seen; 待定 and 未确定 among them). Each table is rebuilt only when its counts change.
const lastCounts = {};

function renderRollup() {
  renderCounts("levels", "level", "级别", ui["rollup-table"], ui["rollup-wrap"], ui["rollup-empty"]);
  renderCounts("categories", "category", "类别", ui["categories-table"], ui["categories"], null);
}

function renderCounts(key, attribute, heading, table, wrap, empty) {
  const rows = Object.entries(season.rollup[key] || {});
  const signature = JSON.stringify(rows);
  if (signature === lastCounts[key]) return;
  lastCounts[key] = signature;
  if (empty) show(empty, rows.length === 0);
  show(wrap, rows.length > 0);
  const union = (kind) => [...new Set(rows.flatMap(([, row]) => Object.keys(row[kind] || {})))];
  const kinds = [["vote", "测评等次", union("vote")], ["final", "综合评价等次", union("final")]];
  const head = h("thead", {},
    h("tr", {},
      h("th", { scope: "col", rowSpan: 2 }, heading),
      h("th", { scope: "col", rowSpan: 2 }, "述职人数"),
      kinds.map(([kind, label, grades]) =>
        h(`th.group-head.${kind}`, { scope: "colgroup", colSpan: grades.length }, label))),
    h("tr", {},
      kinds.flatMap(([kind, , grades]) => grades.map((g) => h(`th.${kind}`, { scope: "col" }, g)))));
  const body = h("tbody", {},
    rows.map(([name, row]) =>
      h("tr", {},
        h("th", { scope: "row" }, name),
        h("td.num.reporters", {}, row.reporters),
        kinds.flatMap(([kind, , grades]) =>
          grades.map((g) =>
            h(`td.num.${kind}`, { dataset: { [attribute]: name, kind, grade: g } }, (row[kind] || {})[g] || 0))))));
  table.replaceChildren(
    h("colgroup", { span: 2 }),
    ...kinds.map(([, , grades]) => h("colgroup", { span: Math.max(1, grades.length) })),
    head,
    body,
  );
}

function renderBottom() {
  const bottom = season.rollup.bottom || [];
  syncList(
    ui.bottom,
    bottom.length ? bottom : [null],
    (b, i) => (b ? `${b.meeting}|${b.name}|${b.org}` : "none"),
    (b) => h(b ? "li" : "li.none"),
    (node, b) => setText(node, b
      ? `${b.name}（${b.org}）— 测评等次 ${vote(b.vote_grade)}，综合评价等次 ${final(b.final_grade)}`
      : "暂无"),
  );
}

// ---- the reporters --------------------------------------------------------------------------

function meetingName(id) {
  const m = season.meetings.find((x) => x.meeting === id);
  if (!m) return id;
  return m.title || `${m.unit}召开（${id}）`;
}

function earlier(row) {
  const seen = (season.history || {})[`${row.name}（${row.org}）`] || [];
  if (!seen.length) return "—";
  return seen.map((e) => `${seasonName(e.season)}：${vote(e.vote_grade)}/${final(e.final_grade)}`).join("；");
}

function renderRows() {
  const rows = season.rows || [];
  const counted = new Map();
  const keyOf = (r) => {
    const base = `${r.meeting}|${r.name}|${r.org}`;
    const n = (counted.get(base) || 0) + 1;
    counted.set(base, n);
    return n > 1 ? `${base}|${n}` : base;
  };
  const keyed = rows.map((r) => ({ key: keyOf(r), r }));
  show(ui["rows-empty"], rows.length === 0);
  syncList(
    ui["rows-body"],
    keyed,
    (x) => x.key,
    () => h("tr", {}, h("td"), h("td"), h("th", { scope: "row" }), h("td.vote"), h("td.final"), h("td.history")),
    (node, { r }) => {
      const cells = node.children;
      node.classList.toggle("bottom", Boolean(r.bottom));
      setText(cells[0], meetingName(r.meeting));
      setText(cells[1], r.unit || `${r.org}（未对应单位）`);
      setText(cells[2], r.bottom ? `${r.name}（倒排）` : r.name);
      setText(cells[3], vote(r.vote_grade));
      setText(cells[4], final(r.final_grade));
      setText(cells[5], earlier(r));
    },
  );
}

// ---- the units ------------------------------------------------------------------------------

function renderUnits() {
  const names = new Map(season.units.map((u) => [u.id, u.name]));
  syncList(
    ui["units-body"],
    season.units,
    (u) => u.id,
    (u) => {
      const copy = h("button.btn.copy", { type: "button" }, "复制链接");
      const said = h("span.copy-result", { role: "status" });
      copy.addEventListener("click", () => copyLink(copy, said));
      return h("tr", {}, h("th", { scope: "row" }), h("td"), h("td"),
        h("td.feedback", {}, h("div.feedback-actions", {},
          h("a.feedback-link", { target: "_blank", rel: "noopener" }, "打开反馈页面"), copy, said)));
    },
    (node, u) => {
      const cells = node.children;
      setText(cells[0], u.name);
      setText(cells[1], u.level);
      setText(cells[2], u.parent ? names.get(u.parent) || u.parent : "—（最上级）");
      const link = cells[3].querySelector("a.feedback-link");
      if (link.getAttribute("href") !== u.feedback_url) link.setAttribute("href", u.feedback_url);
    },
  );
}

async function copyLink(button, said) {
  const url = new URL(button.parentNode.querySelector("a").getAttribute("href"), location.href).href;
  try {
    await navigator.clipboard.writeText(url);
    said.className = "copy-result ok";
    setText(said, "已复制");
  } catch {
    said.className = "copy-result bad";
    setText(said, "无法自动复制：请右键点击“打开反馈页面”，选择“复制链接”");
  }
}

key = takeKeyFromUrl(STORE);
if (key) load();
else askForKey("");
setInterval(load, RELOAD_MS);
