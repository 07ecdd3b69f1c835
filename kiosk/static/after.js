// The 会后 page (/after): the secretariat records each reporter's 综合评价 (GET and POST
// /api/evaluation, behind the chair key) and, once every reporter has one, fixes the record
// with the date of the 党组研究 meeting (POST /api/evaluation/fix). Every save is a new entry:
// the record keeps what it replaced, shown under 录入记录.
import {
  at,
  CHAIR_KEY_STORE, callWithKey, downloadFile, h, keyForm, setText, show, syncList, takeKeyFromUrl,
} from "/static/common.js";

const ui = Object.fromEntries([...document.querySelectorAll("[id]")].map((n) => [n.id, n]));
let key = null;
let record = null;

const askForKey = keyForm(ui, ui.after, (typed) => {
  key = typed;
  load();
});

const call = (path, body) => callWithKey(path, key, body, "网络已断开，未保存，请稍后重试");

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
  setText(ui["next-steps"], fixed
    ? `接下来：打印综合评价结果表（加盖公章）和反馈单送述职人本人；下载备案材料，于 ${record.deadline} 前报上级备案（上级可用 pingyi verify 核验）。`
    : "接下来：逐一录入综合评价 → 党组研究确定（填写研究日期和限期整改日期）→ 打印结果表和反馈单 → 下载备案材料报上级。");
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
  setText(ui["outcome-not-excellent"], `年度考核不得评定为优秀（综合评价等次为${record.poor_grade}）：${names(record.outcomes.not_excellent)}`);
  renderRemarks();
  show(ui.entry, !fixed);
  show(ui.fix, !fixed);
  if (fixed) return;
  if (!ui["entry-reporter"].options.length) buildForm();
  fillEntry();
}

// 点评与讲话: each comment step's texts with who gave them; once the meeting is over and until
// the 综合评价 is fixed, a text can be pasted in (补录) for a step and a name.
const stepTitle = (s) =>
  s.kind === "speech" ? "讲话" : s.kind === "together" ? "集中点评" : `${reporterById(s.reporters[0]).name} 点评`;
const remarkKey = (s) => [s.kind, s.kind === "comment" ? s.reporters[0] : ""];
const remarksOn = (s) => {
  const [kind, reporter] = remarkKey(s);
  return record.remarks.filter((r) => r.kind === kind && r.reporter === reporter);
};

function renderRemarks() {
  syncList(
    ui["remarks-list"],
    record.remark_steps,
    (s) => String(s.step),
    () => h("div.remark-step", {}, h("h3"), h("ul")),
    (node, s) => {
      setText(node.querySelector("h3"), stepTitle(s));
      const said = remarksOn(s).filter((r) => r.text);
      node.querySelector("ul").replaceChildren(
        ...(said.length ? said.map((r) => h("li", {}, `${r.by || "（未署名）"}：${r.text}`)) : [h("li.none", {}, "未录入")]),
      );
    },
  );
  const open = record.finished && !record.fixed;
  show(ui["remark-form"], open);
  setText(ui["remarks-hint"], record.fixed ? "综合评价已确定，点评与讲话不再补录。"
    : record.finished ? "会议中未及录入的点评、讲话，可在此补录（按议程和点评人保存，原记录保留）。"
      : "会议结束后可在此补录点评和讲话。");
  if (open && !ui["remark-step"].options.length) {
    ui["remark-step"].replaceChildren(...record.remark_steps.map((s) => h("option", { value: s.step }, stepTitle(s))));
    fillRemark();
  }
}

function remarkStep() {
  return record.remark_steps.find((s) => String(s.step) === ui["remark-step"].value);
}

function fillRemark() {
  const s = remarkStep();
  const names = [...new Set([...s.commenters, ...remarksOn(s).map((r) => r.by).filter(Boolean)])];
  ui["remark-names"].replaceChildren(...names.map((n) => h("option", { value: n })));
  setText(ui["remark-by"].labels[0], s.kind === "speech" ? "讲话人" : "点评人");
  if (!names.includes(ui["remark-by"].value)) ui["remark-by"].value = names[0] || "";
  fillRemarkText();
}

function fillRemarkText() {
  const found = remarksOn(remarkStep()).find((r) => r.by === ui["remark-by"].value.trim());
  ui["remark-text"].value = found ? found.text : "";
}

ui["remark-step"].addEventListener("change", fillRemark);
ui["remark-by"].addEventListener("change", fillRemarkText);
ui["remark-form"].addEventListener("submit", async (event) => {
  event.preventDefault();
  ui["remark-save"].disabled = true;
  const reply = await call("/api/chair", {
    action: "comment", step: remarkStep().step, by: ui["remark-by"].value, text: ui["remark-text"].value,
  });
  ui["remark-save"].disabled = false;
  if (result(ui["remark-result"], reply, "已保存")) await load();
});

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

for (const button of document.querySelectorAll(".downloads button[data-kind]")) {
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
fetch(at("/api/meeting"), { cache: "no-store" })
  .then((response) => response.json())
  .then((meeting) => {
    setText(ui.title, meeting.title);
    setText(ui.meta, [meeting.date, meeting.place].filter(Boolean).join(" · "));
    document.title = `${meeting.title} · 会后综合评价`;
  })
  .catch(() => {});
if (key) load();
else askForKey("");
