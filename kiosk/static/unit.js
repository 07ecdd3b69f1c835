// A unit's feedback page (/unit/<id>, at a deployment's root, behind that unit's key): what the
// level above decided on the unit's secretary once its 综合评价 is fixed (测评等次, 综合评价等次,
// 综合评价意见, 限期整改, 倒排), and where the unit's own 述职评议 meetings stand
// (GET /api/unit/<id>). Read by the unit's office, often on a phone.
import { callWithKey, h, keyForm, setText, show, syncList, takeKeyFromUrl } from "/static/common.js";

const UNIT = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
const STORE = `pingyi:unit-key:${UNIT}`;
const OPINION_PARTS = ["成绩", "问题", "要求"];
const RELOAD_MS = 30_000;

const ui = Object.fromEntries([...document.querySelectorAll("[id]")].map((n) => [n.id, n]));
let key = null;
let loading = false;
let lastFeedback = "";

const askForKey = keyForm(ui, ui["unit-page"], (typed) => {
  key = typed;
  load();
}, STORE);

async function load() {
  if (!key || loading) return;
  loading = true;
  const { status, body } = await callWithKey(`/api/unit/${encodeURIComponent(UNIT)}`, key, null,
    "网络已断开，显示的是上次读取的情况，稍后自动重试");
  loading = false;
  if (status === 401) {
    key = null;
    sessionStorage.removeItem(STORE);
    show(ui.error, false);
    askForKey("反馈页面密钥不正确，请重新输入");
    return;
  }
  if (status !== 200) {
    show(ui.error, true);
    setText(ui.error, (body.error && body.error.msg) || `无法读取（HTTP ${status}）`);
    return;
  }
  show(ui.error, false);
  show(ui.login, false);
  show(ui["unit-page"], true);
  render(body);
}

function render(view) {
  const unit = view.unit;
  setText(ui.title, `${unit.name} · 上级反馈`);
  setText(ui.meta, `${view.season.name}（全部完成期限：${view.season.deadline}）`);
  document.title = `${unit.name} · 上级反馈`;
  renderFeedback(view.feedback || []);
  renderOwn(view.own_meetings || []);
}

// Rebuilt only when what the level above decided changes (nothing in it takes the focus).
function renderFeedback(entries) {
  const signature = JSON.stringify(entries);
  if (signature === lastFeedback) return;
  lastFeedback = signature;
  if (!entries.length) {
    ui.feedback.replaceChildren(h("p.empty", {}, "上级尚未确定综合评价，暂无反馈"));
    return;
  }
  ui.feedback.replaceChildren(...entries.map(feedbackEntry));
}

const fact = (term, value, cls = "") => h("div", {}, h("dt", {}, term), h(`dd${cls}`, {}, value));

function feedbackEntry(e, i) {
  const headingId = `feedback-${i}`;
  const when = [e.held_on && `${e.held_on}召开`, e.fixed_on && `${e.fixed_on}党组研究确定`].filter(Boolean).join("，");
  const opinion = e.opinion || {};
  const parts = [...OPINION_PARTS, ...Object.keys(opinion).filter((p) => !OPINION_PARTS.includes(p))]
    .filter((p) => (opinion[p] || "").trim());
  return h("section.feedback-entry", { "aria-labelledby": headingId, dataset: { reporter: e.id } },
    h("h3", { id: headingId }, e.meeting),
    when ? h("p.when", {}, when) : null,
    h("dl.facts", {},
      fact("述职人", e.org ? `${e.name}（${e.org}）` : e.name),
      fact("测评等次", e.vote_grade || "待定", ".grade-value.vote"),
      fact("综合评价等次", e.final_grade || "未确定", ".grade-value.final")),
    h("h4", {}, "综合评价意见"),
    parts.length
      ? h("dl.opinion", {}, parts.map((p) => fact(p, opinion[p].trim())))
      : h("p.empty", {}, "（未填写综合评价意见）"),
    e.rectify_by ? h("p.rectify", {}, `限期整改：请于${e.rectify_by}前完成整改`) : null,
    e.bottom ? h("p.bottom-note", {}, "倒排：列入本次述职评议倒排名单") : null,
  );
}

function renderOwn(meetings) {
  const items = meetings.length ? meetings : [null];
  syncList(
    ui.own,
    items,
    (m) => (m ? m.meeting : "none"),
    (m) => (m ? h("li", {}, h("span.stage-name"), h("span.note")) : h("li.empty", {}, "本届没有由本单位召开的述职评议会议")),
    (node, m) => {
      if (!m) return;
      node.dataset.meeting = m.meeting;
      node.classList.toggle("late", Boolean(m.late));
      setText(node.querySelector(".stage-name"), m.stage_name);
      setText(node.querySelector(".note"), m.note);
    },
  );
}

key = takeKeyFromUrl(STORE);
if (key) load();
else askForKey("");
setInterval(load, RELOAD_MS);
