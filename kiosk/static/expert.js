// The expert's page (/expert?key=…): an expert of the meeting's panel ([experts] members)
// scores each reporter over a WebSocket session (hello role="expert" with the expert's
// personal key; the `score` message). Named, not anonymous; a reporter's score locks once
// their vote is counted, and the page hears of it at once.
import { connect, h, setText, show, showNetStatus, syncList, takeKeyFromUrl } from "/static/common.js";

const ui = Object.fromEntries([...document.querySelectorAll("[id]")].map((n) => [n.id, n]));
const key = takeKeyFromUrl("pingyi:expert-key");
const said = new Map(); // reporter id -> what the last save said
let view = null;

function fail(message) {
  show(ui.error, true);
  setText(ui.error, message);
}

function start() {
  if (!key) return fail("缺少专家密钥：请使用会务组提供的专家评分链接打开本页。");
  return connect({
    hello: () => ({ t: "hello", role: "expert", key }),
    onStatus(state, reason) {
      showNetStatus(ui.net, state);
      if (state !== "online" && view) render(); // a save in flight gets no reply: allow a retry
      if (state === "refused") {
        show(ui.expert, false);
        fail(reason === "bad_key" || !reason ? "专家密钥不正确：请使用会务组提供的专家评分链接打开本页。" : `无法连接：${reason}`);
      }
    },
    onMessage(msg) {
      if (msg.t === "welcome" || msg.t === "view") {
        show(ui.error, false);
        view = msg.view;
        render();
      }
    },
  });
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
      let text = last ? last.text : saved != null ? `已保存：${saved} 分` : "尚未评分";
      if (r.closed) text += "（已计票，评分已锁定）";
      setText(out, text);
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
  const sent = session && session.send({ t: "score", reporter, score }, (reply) => {
    button.disabled = false;
    if (reply.t === "ok") {
      delete row.dataset.dirty;
      view = reply.view;
      said.set(reporter, { bad: false, text: score == null ? "已撤销评分" : `已保存：${view.scores[reporter]} 分` });
    } else {
      said.set(reporter, { bad: true, text: `未保存：${reply.msg || "请重试"}` });
    }
    render();
  });
  if (!sent) {
    said.set(reporter, { bad: true, text: "网络已断开，未保存，请稍后重试" });
    render();
    return;
  }
  button.disabled = true;
});

const session = start();
