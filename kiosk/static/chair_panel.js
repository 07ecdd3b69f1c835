// The chair console's 专家评分与项目指标 card (a 三评 meeting, meeting/panel.py): each
// expert's link and how many reporters they scored (GET /api/panel), a score typed in from
// an expert's paper (POST /api/expert with the chair key, naming who typed it), and the
// indicator values imported as a CSV or Excel file (POST /api/indicators).
import { at, callWithKey, h, setText, show, syncList } from "/static/common.js";

export function mountPanel(ui, getKey, meeting) {
  let panel = null;

  async function load() {
    const key = getKey();
    if (!key) return;
    const { status, body } = await callWithKey("/api/panel", key);
    if (status !== 200) return;
    panel = body;
    render();
    // A meeting without experts or indicators has no panel to watch: stop asking.
    if (!(panel.experts || []).length && !panel.has_indicators) clearInterval(timer);
  }

  function render() {
    const experts = panel.experts || [];
    show(ui["panel-card"], experts.length > 0 || panel.has_indicators);
    show(ui["panel-experts-box"], experts.length > 0);
    show(ui["panel-indicators"], Boolean(panel.has_indicators));
    syncList(
      ui["panel-experts"],
      experts,
      (x) => x.id,
      (x) => h("li", {}, h("span.name", {}, x.name), h("span.scored"), h("a", { href: at(x.url), target: "_blank", rel: "noopener" }, "评分页面")),
      (node, x) => setText(node.querySelector(".scored"), `已评 ${x.scored} / ${panel.reporters} 人`),
    );
    fill(ui["panel-expert"], experts.map((x) => [x.id, x.name]));
    fill(ui["panel-reporter"], (meeting() ? meeting().reporters : []).map((r) => [r.id, `${r.name}（${r.org}）`]));
    setText(
      ui["panel-indicators-state"],
      panel.indicators ? `已导入：${panel.indicators}（${panel.indicator_rows} 位述职人）；再次导入将替换。` : "尚未导入。",
    );
  }

  function fill(select, options) {
    if (select.options.length === options.length) return;
    select.replaceChildren(...options.map(([value, label]) => h("option", { value }, label)));
  }

  ui["panel-paper"].addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = ui["panel-score"].value.trim();
    const body = {
      expert: ui["panel-expert"].value,
      reporter: ui["panel-reporter"].value,
      score: text === "" ? null : text,
      entered_by: ui["panel-by"].value.trim(),
    };
    const { status, body: reply } = await callWithKey("/api/expert", getKey(), body, "网络已断开，未录入，请稍后重试");
    const out = ui["panel-paper-result"];
    out.className = `paper-result ${status === 200 ? "ok" : "bad"}`;
    setText(out, status === 200 ? "已录入" : `未录入：${(reply.error && reply.error.msg) || `HTTP ${status}`}`);
    if (status === 200) {
      ui["panel-score"].value = "";
      load();
    }
  });

  ui["panel-indicators"].addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = ui["panel-indicators-file"].files[0];
    const out = ui["panel-indicators-result"];
    if (!file) {
      out.className = "paper-result bad";
      setText(out, "请先选择指标文件");
      return;
    }
    out.className = "paper-result";
    setText(out, "正在导入…");
    let status = 0;
    let reply = {};
    try {
      const response = await fetch(at(`/api/indicators?name=${encodeURIComponent(file.name)}`), {
        method: "POST",
        headers: { Authorization: `Bearer ${getKey()}` },
        body: file,
        cache: "no-store",
      });
      status = response.status;
      reply = await response.json().catch(() => ({}));
    } catch {
      reply = { error: { msg: "网络已断开，未导入，请稍后重试" } };
    }
    out.className = `paper-result ${status === 200 ? "ok" : "bad"}`;
    setText(out, status === 200 ? `已导入 ${reply.indicator_rows} 位述职人的项目指标` : `未导入：${(reply.error && reply.error.msg) || `HTTP ${status}`}`);
    if (status === 200) {
      panel = reply;
      render();
    }
  });

  const timer = setInterval(load, 5_000);
  load();
}
