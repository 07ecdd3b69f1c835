// The expert's page (/expert?key=…): an expert of the meeting's panel ([experts] members)
// scores each reporter (GET and POST /api/expert, behind the expert's personal key). Named,
// not anonymous; a reporter's score locks once their vote is counted.
import { callWithKey, h, setText, show, syncList, takeKeyFromUrl } from "/static/common.js";

const ui = Object.fromEntries([...document.querySelectorAll("[id]")].map((n) => [n.id, n]));
const key = takeKeyFromUrl("pingyi:expert-key");
const said = new Map(); // reporter id -> what the last save said
let view = null;

function fail(message) {
  show(ui.error, true);
  setText(ui.error, message);
}

async function load() {
  if (!key) return fail("缺少专家密钥：请使用会务组提供的专家评分链接打开本页。");
  const { status, body } = await callWithKey("/api/expert", key);
  if (status !== 200) return fail((body.error && body.error.msg) || `无法读取（HTTP ${status}）`);
  show(ui.error, false);
  view = body;
  render();
}

function render() {
  setText(ui.title, view.title);
  setText(ui.who, `专家：${view.expert.name}`);
  setText(ui.scale, `满分 ${view.max_score} 分，可填小数。`);
  show(ui.expert, true);
  syncList(
    ui.reporters,
    view.reporters,
    (r) => r.id,
    (r) => {
      const field = `score-${r.id}`;
      return h(
        "li",
        { dataset: { reporter: r.id } },
        h("p.who", {}, h("label", { htmlFor: field }, r.name), h("span.org", {}, r.org)),
        h(
          "div.score",
          {},
          h("input", { id: field, type: "number", min: "0", max: String(view.max_score), step: "any", inputMode: "decimal" }),
          h("button.btn.primary", { type: "button", dataset: { reporter: r.id } }, "保存"),
        ),
        h("p.saved", { role: "status" }),
      );
    },
    (node, r) => {
      const input = node.querySelector("input");
      const saved = view.scores[r.id];
      if (document.activeElement !== input && !node.dataset.dirty) input.value = saved ?? "";
      input.disabled = r.closed;
      node.querySelector("button").disabled = r.closed;
      node.classList.toggle("closed", r.closed);
      const out = node.querySelector(".saved");
      const last = said.get(r.id);
      out.className = `saved${last && last.bad ? " bad" : ""}`;
      let text = saved != null ? `已保存：${saved} 分` : "尚未评分";
      if (r.closed) text += "（已计票，评分已锁定）";
      setText(out, last ? last.text : text);
    },
  );
}

ui.reporters.addEventListener("input", (event) => {
  const row = event.target.closest("li");
  if (row) row.dataset.dirty = "1";
});

ui.reporters.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-reporter]");
  if (!button) return;
  const reporter = button.dataset.reporter;
  const row = button.closest("li");
  const text = row.querySelector("input").value.trim();
  const score = text === "" ? null : text;
  button.disabled = true;
  const { status, body } = await callWithKey("/api/expert", key, { reporter, score }, "网络已断开，未保存，请稍后重试");
  button.disabled = false;
  if (status === 200) {
    delete row.dataset.dirty;
    view = body;
    said.set(reporter, { bad: false, text: score == null ? "已撤销评分" : `已保存：${body.scores[reporter]} 分` });
  } else {
    said.set(reporter, { bad: true, text: `未保存：${(body.error && body.error.msg) || `HTTP ${status}`}` });
  }
  render();
});

load();
setInterval(() => {
  if (view) load();
}, 10_000);
