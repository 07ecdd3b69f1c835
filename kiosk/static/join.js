// The join page for open mode (/join): the room code (入场码) from the projector's QR code
// (?room=) or typed from the projector, then the voter group, confirmed before anything is
// sent (a group carries a weight: a mis-tap must be undone before the token exists); only 确认
// asks the server for a fresh token, which this phone keeps before going to the ballot. A
// phone that already joined goes straight there.
import { at, fetchMeeting, h, setText, show } from "/static/common.js";

const STORE = "pingyi:join-token";
const DIGITS = 6;
const ui = Object.fromEntries([...document.querySelectorAll("[id]")].map((n) => [n.id, n]));
let groups = [];
let chosen = null; // the group on the confirmation step
let busy = false;

// Digits only; full-width ones (a Chinese keyboard) count too.
function digitsOf(text) {
  return String(text || "")
    .replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\D/g, "");
}

// From the QR code: not stored anywhere, it expires within a minute.
let room = digitsOf(new URL(location.href).searchParams.get("room"));
if (room.length !== DIGITS) room = "";
let typing = !room; // the code field is shown: no code in the address, or it was refused

function go(token) {
  location.replace(at(`/j/${encodeURIComponent(token)}`));
}

function fail(text, field = null) {
  show(ui.error, Boolean(text));
  setText(ui.error, text || "");
  ui["room-form"].classList.toggle("bad", field === "room");
}

function pickStep() {
  chosen = null;
  show(ui.confirm, false);
  show(ui.intro, true);
  show(ui["room-form"], typing);
  show(ui.groups, true);
}

function confirmStep(group) {
  chosen = group;
  fail(null);
  setText(ui.chosen, group.name);
  show(ui.intro, false);
  show(ui["room-form"], false);
  show(ui.groups, false);
  show(ui.confirm, true);
  ui.confirm.scrollIntoView({ block: "start" });
}

function setBusy(on) {
  busy = on;
  ui.ok.disabled = on;
  ui.back.disabled = on;
  setText(ui.ok, on ? "请稍候" : "确认");
}

async function join(group) {
  setBusy(true);
  fail(null);
  let response;
  try {
    response = await fetch(at("/api/join"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ group: group.id, room }),
    });
  } catch {
    setBusy(false);
    fail("网络已断开，请稍后再点“确认”");
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.token) {
    setBusy(false);
    const error = body.error || {};
    const text = error.msg || `登记失败（${response.status}）`;
    if (error.code === "bad_room_code" || error.field === "room") {
      room = "";
      ui.room.value = "";
      typing = true;
      pickStep();
      fail(text, "room");
      ui.room.focus();
    } else if (error.code === "group_full" || error.code === "bad_group") {
      pickStep();
      fail(text);
    } else {
      fail(text); // busy server, rate limit: the voter may try 确认 again
    }
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
      groups = meeting.groups;
      ui.groups.replaceChildren(
        ...groups.map((g) =>
          h("li", {}, h("button.btn.pick", { type: "button", dataset: { group: g.id } }, g.name)),
        ),
      );
      pickStep();
    }
  }
}

ui.room.addEventListener("input", () => {
  const digits = digitsOf(ui.room.value).slice(0, DIGITS);
  if (ui.room.value !== digits) ui.room.value = digits;
  ui["room-form"].classList.remove("bad");
});

ui["room-form"].addEventListener("submit", (event) => {
  event.preventDefault();
  ui.room.blur(); // the keyboard goes away and the groups are in sight
});

ui.groups.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-group]");
  if (!button || busy) return;
  if (typing) {
    room = digitsOf(ui.room.value);
    if (room.length !== DIGITS) {
      fail("请先输入大屏幕上显示的6位入场码", "room");
      ui.room.focus();
      return;
    }
  }
  const group = groups.find((g) => g.id === button.dataset.group);
  if (group) confirmStep(group);
});

ui.back.addEventListener("click", () => {
  if (!busy) pickStep(); // nothing was sent: no token exists
});

ui.ok.addEventListener("click", () => {
  if (!busy && chosen) join(chosen);
});
