// /check: the receipts of every revealed round (GET /api/receipts), sorted by the receipt
// itself, so the list says nothing of who voted when, and never a mark. A voter types the
// receipt their phone showed and sees whether it is there. A receipt in the address's
// fragment (/check#H0AEW-2Y6G6, from the phone) fills the box; a fragment never reaches the
// server.
import { at, fetchMeeting, h, setText, show, toggleClass } from "/static/common.js";

const ui = Object.fromEntries([...document.querySelectorAll("[id]")].map((n) => [n.id, n]));
let rounds = [];

// Crockford base32 as people type it: any case, spaces or dashes, O for 0, I or L for 1.
export function normalise(text) {
  return String(text || "")
    .toUpperCase()
    .replace(/[^0-9A-Z]/g, "")
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
}

function render() {
  const wanted = normalise(ui.search.value);
  let hits = 0;
  ui.rounds.replaceChildren(
    ...rounds.map((r) => {
      const items = r.receipts.map((receipt) => {
        const hit = wanted.length >= 4 && normalise(receipt).includes(wanted);
        if (hit) hits += 1;
        const li = h("li.num", {}, receipt);
        toggleClass(li, "hit", hit);
        return li;
      });
      return h(
        "section.card",
        { "aria-label": `第 ${r.round} 轮回执` },
        h("h2", {}, rounds.length > 1 ? `第 ${r.round} 轮投票` : "本次投票"),
        h("p.round-note", {}, `共 ${r.receipts.length} 张选票的回执编号`),
        h("ol.receipts", {}, items),
      );
    }),
  );
  const verdict = ui.verdict;
  verdict.className = "verdict";
  if (!rounds.length) setText(verdict, "");
  else if (wanted.length < 4) setText(verdict, wanted ? "请至少输入4位" : "");
  else if (hits) {
    verdict.classList.add("found");
    setText(verdict, wanted.length >= 10 ? "✓ 已找到：您的选票已计入" : `找到 ${hits} 个相符的编号`);
  } else {
    verdict.classList.add("missing");
    setText(verdict, "未找到该编号，请核对后重新输入；如确认无误，请联系会务人员");
  }
  const first = ui.rounds.querySelector("li.hit");
  if (first && wanted.length >= 10) first.scrollIntoView({ block: "center" });
}

async function load() {
  try {
    const response = await fetch(at("/api/receipts"), { cache: "no-store" });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ? body.error.msg : "加载失败");
    rounds = body.rounds || [];
    show(ui.error, rounds.length === 0);
    setText(ui.error, rounds.length ? "" : "评议结果尚未公布，公布后即可核对回执。");
  } catch (error) {
    show(ui.error, true);
    setText(ui.error, `无法加载回执列表：${error.message || error}。请稍后刷新。`);
  }
  render();
}

ui["search-form"].addEventListener("submit", (event) => event.preventDefault());
ui.search.addEventListener("input", render);
if (location.hash.length > 1) ui.search.value = decodeURIComponent(location.hash.slice(1));
fetchMeeting().then((meeting) => {
  if (meeting) setText(ui.meta, meeting.title);
});
load();
