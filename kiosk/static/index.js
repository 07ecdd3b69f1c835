// The start page (/): the meeting's title and links to the screen, the console and, in open
// mode, the join page.
import { fetchMeeting, setText, show } from "/static/common.js";

const meeting = await fetchMeeting();
if (meeting) {
  setText(document.getElementById("title"), meeting.title);
  setText(document.getElementById("meta"), [meeting.date, meeting.place].filter(Boolean).join(" · "));
  document.title = meeting.title;
  show(document.getElementById("join-link"), meeting.join === "open");
}
