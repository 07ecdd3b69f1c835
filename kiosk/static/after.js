// The 会后 page (/after): the secretariat records each reporter's 综合评价 (GET and POST
// /api/evaluation, behind the chair key) and, once every reporter has one, fixes the record
// with the date of the 党组研究 meeting (POST /api/evaluation/fix). Every save is a new entry:
// the record keeps what it replaced, shown under 录入记录.
import {
  CHAIR_KEY_STORE, downloadFile, h, keyForm, setText, show, syncList, takeKeyFromUrl,
} from "/static/common.js";

const ui = Object.fromEntries([...document.querySelectorAll("[id]")].map((n) => [n.id, n]));
let key = null;
let record = null;

const askForKey = keyForm(ui, ui.after, (typed) => {
  key = typed;
  load();
});

async function call(path, body) {
  const options = { headers: { Authorization: `Bearer ${key}` }, cache: "no-store" };
  if (body) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(path, options);
    return { status: response.status, body: await response.json() };
  } catch {
    return { status: 0, body: { error: { msg: "网络已断开，未保存，请稍后重试" } } };
  }
}

async function load() {
  const { status, body } = await call("/api/evaluation");
  if (status === 401) {
    sessionStorage.removeItem(CHAIR_KEY_STORE);
    askForKey("主持人密钥不正确，请重新输入");
    return;
  }
  if (status !== 200) {
    show(ui.error, true);
    setText(ui.error, (body.error && body.error.msg) || `无法读取（HTTP ${status}）`);
    return;
  }
  record = body;
  show(ui.login, false);
  show(ui.after, true);
  render();
}

const current = (r) => (r.history.length ? r.history[r.history.length - 1] : null);
const reporterById = (id) => record.reporters.find((r) => r.id === id);

function render() {
  const fixed = record.fixed;
  const today = new Date().toISOString().slice(0, 10);
  setText(ui.deadline, `备案截止：${record.deadline}（会议召开后7日内上报）`);
  ui.deadline.classList.toggle("late", !fixed && today > record.deadline);
  setText(ui["fixed-note"], fixed ? `综合评价已于 ${fixed.studied_on} 经党组研究确定（录入人：${fixed.entered_by}）${fixed.rectify_by ? `，限期整改至 ${fixed.rectify_by}` : ""}，不能再修改。` : "");
  show(ui["archive-row"], Boolean(fixed));
  syncList(
    ui["list-body"],
    record.reporters,
    (r) => r.id,
    () => h("tr", {}, h("td"), h("td"), h("td"), h("td")),
    (node, r) => {
      const entry = current(r);
      const cells = node.children;
      setText(cells[0], r.name);
      setText(cells[1], r.vote_grade || "待定");
      setText(cells[2], entry ? entry.grade : "未录入");
      setText(cells[3], entry ? `${entry.entered_by}，共${r.history.length}次` : "");
    },
  );
  const names = (ids) => (ids.length ? ids.map((id) => reporterById(id).name).join("、") : "无");
  setText(ui["outcomes-state"], fixed ? "已确定" : "暂定，以党组研究确定为准");
  setText(ui["outcome-interview"], `约谈提醒、限期整改（综合评价等次为${record.grades.slice(2).join("、")}）：${names(record.outcomes.interview)}`);
  setText(ui["outcome-not-excellent"], `年度考核不得评定为优秀（综合评价等次为${record.grades[record.grades.length - 1]}）：${names(record.outcomes.not_excellent)}`);
  show(ui.entry, !fixed);
  show(ui.fix, !fixed);
  if (fixed) return;
  if (!ui["entry-reporter"].options.length) buildForm();
  fillEntry();
}

function buildForm() {
  ui["entry-reporter"].replaceChildren(...record.reporters.map((r) => h("option", { value: r.id }, r.name)));
  ui["entry-grade"].replaceChildren(...record.grades.map((g) => h("option", { value: g }, g)));
  ui["entry-sources"].append(
    ...record.sources.flatMap((name, i) => [
      h("label", { htmlFor: `source-${i}` }, name),
      h("input", { id: `source-${i}`, dataset: { source: name }, maxLength: 2000 }),
    ]),
  );
  ui["entry-opinion"].append(
    ...record.opinion_parts.flatMap((part, i) => [
      h("label", { htmlFor: `opinion-${i}` }, part === "要求" ? `${part}（可选）` : part),
      h("textarea", { id: `opinion-${i}`, rows: 3, maxLength: 2000, dataset: { part } }),
    ]),
  );
}

// The form shows the reporter's current entry, if any, to be revised.
function fillEntry() {
  const r = reporterById(ui["entry-reporter"].value) || record.reporters[0];
  const entry = current(r);
  setText(ui["entry-who"], r.name);
  setText(ui["entry-vote"], `测评等次：${r.vote_grade || "待定（会议测评未定）"}`);
  ui["entry-grade"].value = entry ? entry.grade : r.vote_grade || record.grades[0];
  ui["entry-reason"].value = entry ? entry.reason : "";
  for (const input of ui["entry-sources"].querySelectorAll("input")) {
    input.value = (entry && entry.sources[input.dataset.source]) || "";
  }
  for (const box of ui["entry-opinion"].querySelectorAll("textarea")) {
    box.value = (entry && entry.opinion[box.dataset.part]) || "";
  }
  syncReason();
  show(ui["history-box"], r.history.length > 0);
  ui.history.replaceChildren(
    ...r.history.map((x) =>
      h("li", {}, `${new Date(x.at * 1000).toLocaleString("zh-CN")} ${x.entered_by}：${x.grade}${x.reason ? `（理由：${x.reason}）` : ""}`),
    ),
  );
}

function syncReason() {
  const r = reporterById(ui["entry-reporter"].value);
  const differs = Boolean(r && r.vote_grade && ui["entry-grade"].value !== r.vote_grade);
  show(ui["entry-reason-box"], differs);
  ui["entry-reason"].required = differs;
}

ui["entry-reporter"].addEventListener("change", () => {
  setText(ui["entry-result"], "");
  fillEntry();
});
ui["entry-grade"].addEventListener("change", syncReason);

function result(node, reply, done) {
  const ok = reply.status === 200;
  setText(node, ok ? done : `未保存：${(reply.body.error && reply.body.error.msg) || `HTTP ${reply.status}`}`);
  node.className = `paper-result ${ok ? "ok" : "bad"}`;
  return ok;
}

ui.entry.addEventListener("submit", async (event) => {
  event.preventDefault();
  const sources = {};
  for (const input of ui["entry-sources"].querySelectorAll("input")) sources[input.dataset.source] = input.value;
  const opinion = {};
  for (const box of ui["entry-opinion"].querySelectorAll("textarea")) opinion[box.dataset.part] = box.value;
  ui["entry-submit"].disabled = true;
  const reply = await call("/api/evaluation", {
    reporter: ui["entry-reporter"].value,
    grade: ui["entry-grade"].value,
    reason: ui["entry-reason-box"].hidden ? "" : ui["entry-reason"].value,
    sources,
    opinion,
    entered_by: ui["entry-by"].value,
  });
  ui["entry-submit"].disabled = false;
  const name = reporterById(ui["entry-reporter"].value).name;
  if (result(ui["entry-result"], reply, `已保存 ${name} 的综合评价`)) await load();
});

async function download(button) {
  button.disabled = true;
  await downloadFile(button.dataset.kind, key, ui[`${button.id}-result`]);
  button.disabled = false;
}

for (const button of ui["archive-row"].querySelectorAll("button[data-kind]")) {
  button.addEventListener("click", () => download(button));
}

ui.fix.addEventListener("submit", async (event) => {
  event.preventDefault();
  ui["fix-submit"].disabled = true;
  const reply = await call("/api/evaluation/fix", {
    studied_on: ui["fix-date"].value,
    rectify_by: ui["fix-rectify"].value,
    entered_by: ui["fix-by"].value,
  });
  ui["fix-submit"].disabled = false;
  if (result(ui["fix-result"], reply, "综合评价已确定")) await load();
});

key = takeKeyFromUrl(CHAIR_KEY_STORE);
fetch("/api/meeting", { cache: "no-store" })
  .then((response) => response.json())
  .then((meeting) => {
    setText(ui.title, meeting.title);
    setText(ui.meta, [meeting.date, meeting.place].filter(Boolean).join(" · "));
    document.title = `${meeting.title} · 会后综合评价`;
  })
  .catch(() => {});
if (key) load();
else askForKey("");
