// The join page for open mode (/join): pick a voter group, get a fresh token from the server,
// keep it on this phone and go to the ballot. A phone that already joined goes straight there.
import { fetchMeeting, h, setText, show } from "/static/common.js";

const STORE = "pingyi:join-token";
const ui = Object.fromEntries([...document.querySelectorAll("[id]")].map((n) => [n.id, n]));

function go(token) {
  location.replace(`/j/${encodeURIComponent(token)}`);
}

function fail(text) {
  show(ui.error, true);
  setText(ui.error, text);
  for (const b of ui.groups.querySelectorAll("button")) b.disabled = false;
}

async function join(group) {
  for (const b of ui.groups.querySelectorAll("button")) b.disabled = true;
  show(ui.error, false);
  let response;
  try {
    response = await fetch("/api/join", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ group }),
    });
  } catch {
    fail("网络已断开，请稍后重试");
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.token) {
    fail((body.error && body.error.msg) || `登记失败（${response.status}）`);
    return;
  }
  try {
    localStorage.setItem(STORE, body.token);
  } catch {
    // private mode: the ballot page still works for this visit
  }
  go(body.token);
}

const stored = (() => {
  try {
    return localStorage.getItem(STORE);
  } catch {
    return null;
  }
})();

if (stored) go(stored);
else {
  const meeting = await fetchMeeting();
  if (!meeting) fail("无法获取会议信息，请检查网络后刷新页面");
  else {
    setText(ui.title, meeting.title);
    setText(ui.meta, [meeting.date, meeting.place].filter(Boolean).join(" · "));
    document.title = `${meeting.title} · 参会登记`;
    if (meeting.join !== "open") fail("本次会议凭参会卡入场，请扫描参会卡上的二维码");
    else {
      ui.groups.replaceChildren(
        ...meeting.groups.map((g) =>
          h("li", {}, h("button.btn.pick", { type: "button", dataset: { group: g.id } }, g.name)),
        ),
      );
    }
  }
}

ui.groups.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-group]");
  if (button) join(button.dataset.group);
});
