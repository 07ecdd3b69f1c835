// The setup page (/setup): a secretariat creates the meeting (or edits it before voting
// starts). Everything behind the one-time setup key printed by `pingyi serve`. The meeting is
// kept as the dict the meeting file holds (docs/meeting-file.md); each change is checked by
// POST /api/setup/check, whose message is the meeting file reader's, shown beside the field
// its key path names. Keys the page has no field for (an expert's [agenda], [[forms]] …) are
// kept as they were.
import {
  CHAIR_KEY_STORE, DEFAULT_GRADES, h, keyForm, setText, show, takeKeyFromUrl,
} from "/static/common.js";

const SETUP_KEY_STORE = "pingyi:setup-key";
const ui = Object.fromEntries([...document.querySelectorAll("[id]")].map((n) => [n.id, n]));
const MODES = { onsite: "现场", written: "书面" };
const LIST = /[、，,；;\s]+/;

let key = null;
let base = {}; // the meeting as loaded: keys the page does not edit are saved as they were
let reporters = []; // {id, name, org, mode, flags: "问责、…", extra: {...}}
let groups = []; // {id, name, seats: "15", weight: "0.3", extra: {...}}
let checkSeq = 0;
let checkTimer = null;
let saving = false;

const askForKey = keyForm(ui, ui.setup, (typed) => {
  sessionStorage.removeItem(CHAIR_KEY_STORE); // keyForm keeps a key there: this one is not it
  sessionStorage.setItem(SETUP_KEY_STORE, typed);
  key = typed;
  load();
});

async function call(path, { body, raw, type } = {}) {
  const options = { headers: { Authorization: `Bearer ${key}` }, cache: "no-store" };
  if (body !== undefined || raw !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = type || "application/json";
    options.body = raw !== undefined ? raw : JSON.stringify(body);
  }
  try {
    const response = await fetch(path, options);
    return { status: response.status, body: await response.json().catch(() => ({})) };
  } catch {
    return { status: 0, body: { error: { msg: "网络已断开，请确认 pingyi serve 仍在运行" } } };
  }
}

const errorText = (reply) => (reply.body.error && reply.body.error.msg) || `HTTP ${reply.status}`;

async function load() {
  const reply = await call("/api/setup/meeting");
  if (reply.status === 401) {
    sessionStorage.removeItem(SETUP_KEY_STORE);
    askForKey("设置密钥不正确，请重新输入（见启动 pingyi serve 的终端）");
    return;
  }
  if (reply.status !== 200) {
    show(ui.error, true);
    setText(ui.error, `无法打开设置：${errorText(reply)}`);
    return;
  }
  show(ui.login, false);
  show(ui.setup, true);
  const { meeting, editing, out, exists, addresses } = reply.body;
  fillAddresses(addresses || []);
  setText(ui.title, editing ? "修改会议" : "新建会议");
  setText(ui["out-note"], editing
    ? `保存后写回会议文件 ${out}（开始投票之前可以修改，开始投票后锁定）。`
    : `保存为会议文件 ${out}；以后也可以用文本编辑器修改它，或用 pingyi serve ${out} --setup 回到本页修改。`);
  show(ui["overwrite-box"], Boolean(exists && !editing));
  fill(meeting || {});
  scheduleCheck(0);
}

// The addresses phones could open, the server's choice first; one only: nothing to pick.
function fillAddresses(addresses) {
  show(ui["address-box"], addresses.length > 1);
  ui["address-list"].replaceChildren(...addresses.map((url, i) => h("div.choice", {},
    h("input", { type: "radio", name: "address", id: `address-${i}`, value: url, checked: i === 0 }),
    h("label", { htmlFor: `address-${i}` }, url))));
}

// ---- the form <-> the meeting dict ----------------------------------------------------------

const listText = (items) => (Array.isArray(items) ? items.join("、") : "");
const listOf = (text) => text.split(LIST).map((s) => s.trim()).filter(Boolean);

// "12.5" (a percentage) -> 0.125, exactly as typed: the decimal point moved, no float arithmetic.
function fromPercent(text) {
  const t = text.trim().replace(/[%％]$/, "");
  if (!/^\d+(\.\d+)?$/.test(t)) return t;
  const [whole, fraction = ""] = t.split(".");
  const digits = `${whole}${fraction}`;
  const scale = fraction.length + 2;
  const padded = digits.padStart(scale + 1, "0");
  return Number(`${padded.slice(0, -scale)}.${padded.slice(-scale)}`);
}

// 0.125 -> "12.5", likewise.
function toPercent(value) {
  if (typeof value !== "number") return value == null ? "" : String(value);
  const text = String(value);
  if (!/^\d+(\.\d+)?$/.test(text)) return String(Math.round(value * 1e6) / 1e4);
  const [whole, fraction = ""] = text.split(".");
  const digits = `${whole}${fraction.padEnd(2, "0")}`;
  const point = whole.length + 2;
  const out = `${digits.slice(0, point)}.${digits.slice(point)}`.replace(/^0+(?=\d)/, "");
  return out.replace(/\.?0*$/, "") || "0";
}

// A number typed in a box: the number, else the text as typed, which the check then names.
function numberOf(text) {
  const t = text.trim();
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}

function fill(meeting) {
  base = structuredClone(meeting);
  const m = meeting.meeting || {};
  ui["m-title"].value = m.title || "";
  ui["m-date"].value = m.date || "";
  ui["m-place"].value = m.place || "";
  ui["m-organizer"].value = m.organizer || "";
  ui["m-join"].value = m.join || "cards";
  ui["m-voting"].value = m.voting || "end";
  reporters = (meeting.reporters || []).map(reporterRow);
  let given = meeting.groups || [];
  if (!given.length && m.seats != null) {
    // a file with [meeting] seats and no groups: the one group "全体" it means
    given = [{ id: "all", name: "全体", seats: m.seats, weight: 1 }];
  }
  groups = given.map(groupRow);
  if (!groups.length) groups = [groupRow({ id: "g1", name: "全体", seats: "", weight: 1 })];
  const r = meeting.rules || {};
  ui["r-grades"].value = listText(r.grades || DEFAULT_GRADES);
  ui["r-points"].value = listText((r.points || [100, 80, 60, 0]).map(String));
  ui["r-cutoffs"].value = listText((r.score_cutoffs || [90, 80, 60]).map(String));
  ui["r-poor-limit"].value = toPercent(r.poor_share_limit != null ? r.poor_share_limit : 0.1);
  ui["r-poor-basis"].value = r.poor_share_basis || "valid";
  ui["r-quorum"].value = toPercent(r.quorum != null ? r.quorum : 0);
  ui["r-flags"].value = listText(r.override_flags || ["重大失误", "问责"]);
  buildQuota(r.quota || {});
  renderReporters();
  renderGroups();
}

function reporterRow(r) {
  const { id, name, org, mode, flags, ...extra } = r;
  return { id: id || "", name: name || "", org: org || "", mode: mode || "onsite", flags: listText(flags), extra };
}

function groupRow(g) {
  const { id, name, seats, weight, ...extra } = g;
  return {
    id: id || "", name: name || "", seats: seats == null ? "" : String(seats),
    weight: weight == null ? "" : String(weight), extra,
  };
}

function meetingDict() {
  const d = structuredClone(base);
  const m = { ...(base.meeting || {}) };
  delete m.seats; // the page always writes [[groups]]
  m.title = ui["m-title"].value.trim();
  m.date = ui["m-date"].value;
  for (const [name, id] of [["place", "m-place"], ["organizer", "m-organizer"]]) {
    const value = ui[id].value.trim();
    if (value) m[name] = value;
    else delete m[name];
  }
  m.join = ui["m-join"].value;
  m.voting = ui["m-voting"].value;
  d.meeting = m;
  d.reporters = reporters.map((r) => {
    const out = { id: r.id.trim(), name: r.name.trim(), org: r.org.trim(), mode: r.mode, ...r.extra };
    const flags = listOf(r.flags);
    if (flags.length) out.flags = flags;
    return out;
  });
  d.groups = groups.map((g) => {
    const out = { id: g.id.trim(), name: g.name.trim(), seats: numberOf(g.seats), ...g.extra };
    const weight = g.weight.trim();
    if (weight || groups.length > 1) out.weight = /[%％]$/.test(weight) ? fromPercent(weight) : numberOf(weight);
    return out;
  });
  const grades = listOf(ui["r-grades"].value);
  const rules = { ...(base.rules || {}) };
  rules.grades = grades;
  if (grades.length) rules.poor_grade = grades[grades.length - 1];
  rules.points = listOf(ui["r-points"].value).map(numberOf);
  rules.score_cutoffs = listOf(ui["r-cutoffs"].value).map(numberOf);
  rules.poor_share_limit = fromPercent(ui["r-poor-limit"].value || "0");
  rules.poor_share_basis = ui["r-poor-basis"].value;
  rules.quorum = fromPercent(ui["r-quorum"].value || "0");
  rules.override_flags = listOf(ui["r-flags"].value);
  const quota = {};
  for (const input of ui["r-quota-inputs"].querySelectorAll("input")) {
    if (input.value.trim()) quota[input.dataset.grade] = fromPercent(input.value);
  }
  if (Object.keys(quota).length) rules.quota = quota;
  else delete rules.quota;
  d.rules = rules;
  return d;
}

// ---- the tables ------------------------------------------------------------------------------

function cellInput(row, field, label, path, props = {}) {
  const input = h("input", { value: row[field], ...props });
  input.setAttribute("aria-label", label);
  input.dataset.path = path;
  input.addEventListener("input", () => {
    row[field] = input.value;
    changed();
  });
  return h("td", {}, input);
}

function removeButton(label, onClick) {
  const button = h("button.btn.remove", { type: "button" }, "删除");
  button.setAttribute("aria-label", label);
  button.addEventListener("click", onClick);
  return h("td", {}, button);
}

function renderReporters() {
  ui["reporters-body"].replaceChildren(
    ...reporters.map((r, i) => {
      const n = i + 1;
      const who = `第${n}位述职人`;
      const path = `reporters[${n}]`;
      const mode = h("select", {}, ...Object.entries(MODES).map(([value, text]) => h("option", { value }, text)));
      mode.value = r.mode;
      mode.setAttribute("aria-label", `${who}的述职方式`);
      mode.dataset.path = `${path}.mode`;
      mode.addEventListener("change", () => {
        r.mode = mode.value;
        changed();
      });
      const row = h(
        "tr",
        { dataset: { path } },
        h("td.n", {}, String(n)),
        cellInput(r, "id", `${who}的编号`, `${path}.id`, { size: 6 }),
        cellInput(r, "name", `${who}的姓名`, `${path}.name`, { size: 8 }),
        cellInput(r, "org", `${who}的单位`, `${path}.org`, { size: 16 }),
        h("td", {}, mode),
        cellInput(r, "flags", `${who}的标记`, `${path}.flags`, { size: 8 }),
        removeButton(`删除${who}${r.name ? `（${r.name}）` : ""}`, () => {
          reporters.splice(i, 1);
          renderReporters();
          changed();
        }),
      );
      return row;
    }),
  );
  show(ui["reporters-empty"], reporters.length === 0);
}

function renderGroups() {
  ui["groups-body"].replaceChildren(
    ...groups.map((g, i) => {
      const n = i + 1;
      const which = `第${n}个组别`;
      const path = `groups[${n}]`;
      return h(
        "tr",
        { dataset: { path } },
        cellInput(g, "id", `${which}的编号`, `${path}.id`, { size: 8 }),
        cellInput(g, "name", `${which}的名称`, `${path}.name`, { size: 10 }),
        cellInput(g, "seats", `${which}的应到人数`, `${path}.seats`, { size: 5, inputMode: "numeric" }),
        cellInput(g, "weight", `${which}的权重`, `${path}.weight`, { size: 5, inputMode: "decimal" }),
        removeButton(`删除${which}${g.name ? `（${g.name}）` : ""}`, () => {
          groups.splice(i, 1);
          renderGroups();
          changed();
        }),
      );
    }),
  );
}

function freeId(prefix, rows, width) {
  const used = new Set(rows.map((r) => r.id));
  for (let n = rows.length + 1; ; n += 1) {
    const id = `${prefix}${String(n).padStart(width, "0")}`;
    if (!used.has(id)) return id;
  }
}

ui["add-reporter"].addEventListener("click", () => {
  reporters.push(reporterRow({ id: freeId("r", reporters, 2) }));
  renderReporters();
  changed();
  ui["reporters-body"].lastElementChild.querySelectorAll("input")[1].focus();
});

ui["add-group"].addEventListener("click", () => {
  groups.push(groupRow({ id: freeId("g", groups, 1) }));
  renderGroups();
  changed();
  ui["groups-body"].lastElementChild.querySelectorAll("input")[1].focus();
});

function buildQuota(quota) {
  const kept = {};
  for (const input of ui["r-quota-inputs"].querySelectorAll("input")) kept[input.dataset.grade] = input.value;
  const grades = listOf(ui["r-grades"].value);
  ui["r-quota-inputs"].replaceChildren(
    ...grades.slice(0, -1).map((grade, i) => {
      const input = h("input", {
        id: `quota-${i}`, inputMode: "decimal", size: 4,
        value: grade in quota ? toPercent(quota[grade]) : kept[grade] || "",
      });
      input.dataset.grade = grade;
      input.dataset.path = `rules.quota.${grade}`;
      input.addEventListener("input", changed);
      return h("div.q", {}, h("label", { htmlFor: `quota-${i}` }, `${grade} 不超过`), input, h("span", {}, "%"));
    }),
  );
}

ui["r-grades"].addEventListener("input", () => buildQuota({}));

// ---- the live check --------------------------------------------------------------------------

function changed() {
  setText(ui["save-result"], "");
  scheduleCheck(250);
}

for (const id of ["m-title", "m-date", "m-place", "m-organizer", "r-grades", "r-points", "r-cutoffs", "r-poor-limit", "r-quorum", "r-flags"]) {
  ui[id].addEventListener("input", changed);
}
for (const id of ["m-join", "m-voting", "r-poor-basis", "m-date"]) {
  ui[id].addEventListener("change", changed);
}

function scheduleCheck(delay) {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(check, delay);
}

function updateTotal() {
  const sum = groups.reduce((s, g) => s + (Number(g.weight) || 0), 0);
  const seats = groups.reduce((s, g) => s + (Number.parseInt(g.seats, 10) || 0), 0);
  setText(ui["groups-total"], `应到合计 ${seats} 人；权重合计 ${Math.round(sum * 10000) / 10000}`);
}

async function check() {
  const seq = ++checkSeq;
  updateTotal();
  const reply = await call("/api/setup/check", { body: { meeting: meetingDict() } });
  if (seq !== checkSeq) return; // a later change is being checked
  clearFieldErrors();
  if (reply.status !== 200) {
    showCheck(false, `无法检查：${errorText(reply)}`);
    return false;
  }
  if (reply.body.ok) {
    showCheck(true, `检查通过：${reply.body.summary}。可以保存。`);
    return true;
  }
  const { path, msg } = reply.body.error;
  showFieldError(path, msg);
  showCheck(false, `还有错误：${path ? `${path}：` : ""}${msg}`);
  return false;
}

function showCheck(ok, text) {
  setText(ui.check, text);
  ui.check.className = `check ${ok ? "ok" : "bad"}`;
}

function clearFieldErrors() {
  for (const node of document.querySelectorAll(".field-error, .row-error")) node.remove();
  for (const node of document.querySelectorAll("[aria-invalid]")) {
    node.removeAttribute("aria-invalid");
    const described = (node.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== "field-error");
    if (described.length) node.setAttribute("aria-describedby", described.join(" "));
    else node.removeAttribute("aria-describedby");
  }
}

// The element a key path names: "reporters[3].flags[1]" -> reporters[3].flags -> reporters[3]
// -> reporters; "groups[*].weight" -> groups; "meeting.seats" (no groups) -> groups.
function fieldFor(path) {
  let p = path === "meeting.seats" ? "groups" : path;
  while (p) {
    const found = document.querySelector(`[data-path="${CSS.escape(p)}"]`);
    if (found) return found;
    const shorter = p.replace(/(\[[^\]]*\]|\.[^.[\]]*)$/, "");
    if (shorter === p) break;
    p = shorter;
  }
  return null;
}

function showFieldError(path, msg) {
  const field = fieldFor(path);
  if (!field) return;
  const note = h("span.field-error", { id: "field-error", role: "alert" }, msg);
  if (field.matches("input, select")) {
    field.setAttribute("aria-invalid", "true");
    const described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", described ? `${described} field-error` : "field-error");
  }
  const row = field.closest("tbody tr");
  if (row) {
    const cells = row.parentElement.parentElement.querySelector("thead tr").children.length;
    row.after(h("tr.row-error", {}, h("td", { colSpan: cells }, note)));
  } else if (field.matches("tr")) {
    field.after(h("tr.row-error", {}, h("td", { colSpan: field.children.length }, note)));
  } else if (field.closest(".quota")) {
    field.closest(".quota").after(note);
  } else {
    field.after(note); // inside its .field, under the box, above the box's explanation
  }
}

// ---- the roster ------------------------------------------------------------------------------

ui.template.addEventListener("click", async () => {
  ui.template.disabled = true;
  try {
    const response = await fetch("/api/setup/template", { headers: { Authorization: `Bearer ${key}` }, cache: "no-store" });
    if (!response.ok) throw new Error(String(response.status));
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = "名单模板.xlsx";
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    result(true, "已下载 名单模板.xlsx：在 Excel 中填好后点击“导入名单”");
  } catch {
    result(false, "未能下载名单模板，请确认 pingyi serve 仍在运行");
  }
  ui.template.disabled = false;
});

function result(ok, text) {
  ui["roster-result"].className = `paper-result ${ok ? "ok" : "bad"}`;
  setText(ui["roster-result"], text);
}

ui["roster-file"].addEventListener("change", async () => {
  const file = ui["roster-file"].files[0];
  if (!file) return;
  result(true, `正在读取 ${file.name}…`);
  const reply = await call("/api/setup/roster", {
    raw: await file.arrayBuffer(),
    type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  });
  ui["roster-file"].value = ""; // the same file, corrected, can be chosen again
  if (reply.status === 200 && reply.body.ok) {
    show(ui["roster-errors"], false);
    reporters = reply.body.reporters.map(reporterRow);
    groups = reply.body.groups.map(groupRow);
    renderReporters();
    renderGroups();
    result(true, `已从 ${file.name} 导入 ${reporters.length} 位述职人、${groups.length} 个投票组别`);
    changed();
    return;
  }
  const errors = reply.body.errors || [{ sheet: "文件", row: null, column: null, msg: errorText(reply) }];
  result(false, `${file.name} 有 ${errors.length} 处错误，未导入任何一行；请在 Excel 中改正后重新导入`);
  setText(ui["roster-errors-title"], `${file.name} 中的错误（共 ${errors.length} 处，下面两张表未作改动）：`);
  ui["roster-errors-body"].replaceChildren(
    ...errors.map((e) => h("tr", {}, h("td", {}, e.sheet), h("td", {}, e.row == null ? "—" : `第${e.row}行`), h("td", {}, e.column || "—"), h("td.msg", {}, e.msg))),
  );
  show(ui["roster-errors"], true);
});

// ---- save and start --------------------------------------------------------------------------

ui.save.addEventListener("click", async () => {
  if (saving) return;
  saving = true;
  ui.save.disabled = true;
  setText(ui["save-result"], "正在保存…");
  ui["save-result"].className = "paper-result";
  const chosen = ui["address-list"].querySelector("input:checked");
  const body = { meeting: meetingDict(), overwrite: ui.overwrite.checked, address: chosen ? chosen.value : "" };
  const reply = await call("/api/setup/save", { body });
  if (reply.status !== 200) {
    saving = false;
    ui.save.disabled = false;
    ui["save-result"].className = "paper-result bad";
    const error = reply.body.error || {};
    if (reply.status === 409) show(ui["overwrite-box"], true);
    if (error.path !== undefined && reply.status === 422) {
      clearFieldErrors();
      showFieldError(error.path, error.msg);
    }
    setText(ui["save-result"], `未保存：${error.path ? `${error.path}：` : ""}${error.msg || `HTTP ${reply.status}`}`);
    return;
  }
  ui["save-result"].className = "paper-result ok";
  setText(ui["save-result"], `已保存到 ${reply.body.path}，正在启动会议服务…`);
  sessionStorage.removeItem(SETUP_KEY_STORE); // the key is spent
  waitForMeeting(reply.body.chair);
});

// The setup app stops and `pingyi serve` starts the meeting on the same address: wait for it,
// then open the chair console.
async function waitForMeeting(chair) {
  for (let attempt = 0; attempt < 240; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    try {
      const response = await fetch("/api/meeting", { cache: "no-store" });
      if (response.ok) {
        setText(ui["save-result"], "会议服务已启动，正在打开主持台…");
        location.href = chair;
        return;
      }
    } catch {
      // not up yet
    }
  }
  ui["save-result"].className = "paper-result bad";
  setText(ui["save-result"], "会议文件已保存，但会议服务未能启动：请查看运行 pingyi serve 的终端");
}

key = takeKeyFromUrl(SETUP_KEY_STORE);
if (key) load();
else askForKey("");
