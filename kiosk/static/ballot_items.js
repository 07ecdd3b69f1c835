// 逐项测评 (issue 17): the phone ballot when the meeting gives this phone's voter group item
// forms. One reporter per screen: a 测评等次 row when the form has a grade part, then the
// checklist (one row per item, one button per option word); 上一位 / 下一位, a select to jump
// to any reporter, the progress of the whole ballot. Nothing is ever pre-filled: the only bulk
// action (全部选“能”) asks first. ballot.js keeps the flow (form → review → confirm → receipt),
// the draft and the cast; this module knows the forms, draws the pages and the review lines.
import { gradeClass, h, setText, show, syncList, toggleClass } from "/static/common.js";

// ---- the plan: which form each reporter of the round has, for this phone's group ------------

// null when this ballot is today's grade-only one: the meeting has no forms, or none of the
// round's reporters has a form with items for this group. Otherwise
// {reporters: [{id, form, grade: bool, items: [{id, text, decisive}], options: [words]}]}.
export function itemPlan(meeting, group, round) {
  if (!meeting || !round || group == null) return null;
  const forms = meeting.forms;
  const byGroup = meeting.ballot_forms && meeting.ballot_forms[group];
  if (!forms || !byGroup) return null;
  const reporters = round.reporters.map((id) => {
    const formId = byGroup[id];
    const form = (formId != null && forms[formId]) || null;
    const kind = form ? form.kind : "grade";
    const items = kind === "grade" ? [] : (form.items || []).filter((it) => it && it.id != null);
    const options = kind === "grade" ? [] : (form.options || []).map(String);
    const hasItems = items.length > 0 && options.length > 0;
    return {
      id,
      form: formId == null ? null : formId,
      formName: form ? form.name || "" : "",
      grade: kind === "grade" || kind === "both" || !hasItems,
      items: hasItems ? items : [],
      options: hasItems ? options : [],
    };
  });
  if (!reporters.some((r) => r.items.length)) return null;
  return { reporters };
}

// The answers of one reporter that the form still knows (a draft may outlive a form change).
function answersOf(r, draft) {
  const given = (draft.items && draft.items[r.id]) || {};
  const out = {};
  for (const it of r.items) {
    const word = given[it.id];
    if (word != null && r.options.includes(word)) out[it.id] = word;
  }
  return out;
}

function markOf(r, draft, grades) {
  const mark = r.grade ? draft.marks[r.id] || null : null;
  return mark && grades.includes(mark) ? mark : null;
}

// How far one reporter is: {answered, total, items, itemsAnswered, mark, state}.
export function reporterStatus(r, draft, grades) {
  const mark = markOf(r, draft, grades);
  const itemsAnswered = Object.keys(answersOf(r, draft)).length;
  const answered = itemsAnswered + (mark ? 1 : 0);
  const total = r.items.length + (r.grade ? 1 : 0);
  const state = answered === 0 ? "untouched" : answered === total ? "complete" : "partial";
  return { answered, total, items: r.items.length, itemsAnswered, mark, state };
}

export function ballotStatus(plan, draft, grades) {
  let answered = 0;
  let total = 0;
  for (const r of plan.reporters) {
    const s = reporterStatus(r, draft, grades);
    answered += s.answered;
    total += s.total;
  }
  return { answered, total };
}

// The cast's two parts: marks {rid: grade} for the reporters whose form has a grade part
// (unmarked left out: 弃权); items {rid: {item id: option}} for every reporter whose form has
// items (unanswered items left out: 弃权; nothing answered: {}).
export function castParts(plan, draft, grades) {
  const marks = {};
  const items = {};
  for (const r of plan.reporters) {
    const mark = markOf(r, draft, grades);
    if (mark) marks[r.id] = mark;
    if (r.items.length) items[r.id] = answersOf(r, draft);
  }
  return { marks, items };
}

// Anything at all answered (a twin phone, a ballot missed at the close).
export function hasAnswers(draft) {
  if (!draft) return false;
  if (Object.keys(draft.marks || {}).length) return true;
  return Object.values(draft.items || {}).some((answers) => answers && Object.keys(answers).length);
}

// ---- the pages ------------------------------------------------------------------------------

const STATE_WORDS = { complete: "已完成", partial: "未答完", untouched: "未作答" };

// mountItems(ui, hooks) -> {render(plan, draft, grades), renderReview(plan, draft, grades)}
// hooks: reporterById(id), changed() (the draft changed: save it and render), toReview(),
//        toForm() (back from the review to draft.page), editable() (false while submitting).
export function mountItems(ui, hooks) {
  let current = null; // {plan, draft, grades} of the last render

  const pageIndex = () => {
    const { plan, draft } = current;
    const i = plan.reporters.findIndex((r) => r.id === draft.page);
    return i < 0 ? 0 : i;
  };

  function goTo(index, focusId) {
    const { plan, draft } = current;
    const i = Math.max(0, Math.min(plan.reporters.length - 1, index));
    draft.page = plan.reporters[i].id;
    hooks.changed();
    ui["items-status"].scrollIntoView({ block: "start" });
    const target = focusId && document.getElementById(focusId);
    const page = ui["reporter-pages"].firstElementChild;
    if (target && !target.hidden && !target.disabled) target.focus({ preventScroll: true });
    else if (page) page.focus({ preventScroll: true });
  }

  function buildPage(r, index, count, grades) {
    const rep = hooks.reporterById(r.id);
    const nameId = `rp-name-${r.id}`;
    const gradeRow = r.grade
      ? h(
          "div.grade-row",
          {},
          h("h3.row-title", {}, "测评等次"),
          h(
            `div.grades.grades-${Math.min(grades.length, 7)}`,
            { role: "group", "aria-label": `${rep.name}的测评等次` },
            grades.map((g) => h("button.choice", { type: "button", dataset: { grade: g, id: r.id } }, g)),
          ),
        )
      : null;
    const checklist = r.items.length
      ? h(
          "div.checklist-box",
          {},
          h(
            "div.checklist-head",
            {},
            h("h3.row-title", {}, `测评项目（共 ${r.items.length} 项）`),
            h("button.btn.all-first", { type: "button", id: "all-first" }, `全部选“${r.options[0]}”`),
          ),
          h(
            "ol.checklist",
            {},
            r.items.map((it, n) =>
              h(
                "li.item-row",
                { dataset: { item: it.id } },
                h(
                  "p.item-text",
                  {},
                  h("span.item-no.num", {}, `${n + 1}.`),
                  h("span.item-words", {}, it.text),
                  it.decisive ? h("span.tag.veto", {}, "否决项") : null,
                ),
                h(
                  `div.options.opts-${Math.min(r.options.length, 7)}`,
                  {
                    role: "group",
                    "aria-label": `第 ${n + 1} 项：${it.text}`,
                  },
                  r.options.map((word, k) =>
                    h(
                      "button.option",
                      { type: "button", dataset: { option: word, item: it.id, rank: String(k) } },
                      word,
                    ),
                  ),
                ),
              ),
            ),
          ),
        )
      : null;
    return h(
      "section.reporter-page.card",
      {
        dataset: { reporter: r.id },
        tabIndex: -1,
        "aria-labelledby": nameId,
      },
      h("p.page-pos.num", {}, `第 ${index + 1} / ${count} 位述职人`),
      h(
        "h2.who",
        { id: nameId },
        h("span.name", {}, rep.name),
        rep.mode === "written" ? h("span.tag.written", {}, "书面述职") : null,
      ),
      rep.org ? h("p.org", {}, rep.org) : null,
      h("p.page-state", { "aria-live": "polite" }),
      gradeRow,
      checklist,
      h(
        "p.page-note",
        {},
        "再次点击已选项可取消，未选即为",
        h("strong", {}, "弃权"),
        "。",
      ),
    );
  }

  function updatePage(node, r, draft, grades) {
    const status = reporterStatus(r, draft, grades);
    const busy = !hooks.editable();
    for (const b of node.querySelectorAll("button.choice")) {
      const on = b.dataset.grade === status.mark;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.className = `choice ${on ? `on ${gradeClass(grades, status.mark)}` : ""}`.trim();
      b.disabled = busy;
    }
    const answers = answersOf(r, draft);
    for (const row of node.querySelectorAll("li.item-row")) {
      const chosen = answers[row.dataset.item] || null;
      toggleClass(row, "answered", Boolean(chosen));
      for (const b of row.querySelectorAll("button.option")) {
        const on = b.dataset.option === chosen;
        b.setAttribute("aria-pressed", on ? "true" : "false");
        toggleClass(b, "on", on);
        b.disabled = busy;
      }
    }
    const allFirst = node.querySelector("#all-first");
    if (allFirst) allFirst.disabled = busy;
    const left = status.total - status.answered;
    setText(
      node.querySelector(".page-state"),
      status.state === "complete"
        ? `本页已答完（${status.total} 项）`
        : `本页已答 ${status.answered} / ${status.total} 项，未答 ${left} 项`,
    );
    node.dataset.state = status.state;
  }

  function render(plan, draft, grades) {
    current = { plan, draft, grades };
    const index = pageIndex();
    const r = plan.reporters[index];
    const count = plan.reporters.length;
    draft.page = r.id;

    // the page itself: built once per reporter (and rebuilt if the form or the grades change)
    const sig = JSON.stringify([r.id, r.form, r.grade, r.items.length, r.options, grades, index, count]);
    let page = ui["reporter-pages"].firstElementChild;
    if (!page || page.dataset.sig !== sig) {
      page = buildPage(r, index, count, grades);
      page.dataset.sig = sig;
      ui["reporter-pages"].replaceChildren(page);
    }
    updatePage(page, r, draft, grades);

    // the whole ballot's progress
    const { answered, total } = ballotStatus(plan, draft, grades);
    const bar = ui["items-progress"];
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", String(total));
    bar.setAttribute("aria-valuenow", String(answered));
    bar.setAttribute("aria-valuetext", `已答 ${answered} / ${total} 项`);
    bar.querySelector(".fill").style.width = `${total ? (100 * answered) / total : 0}%`;
    setText(ui["items-count"], `已答 ${answered} / ${total} 项`);

    // the jump select: every reporter with how far the voter is
    syncList(
      ui["reporter-jump"],
      plan.reporters,
      (x) => x.id,
      (x) => h("option", { value: x.id }),
      (node, x) => {
        const s = reporterStatus(x, draft, grades);
        const n = plan.reporters.indexOf(x) + 1;
        const how = s.state === "partial" ? `已答 ${s.answered}/${s.total}` : STATE_WORDS[s.state];
        setText(node, `${n}. ${hooks.reporterById(x.id).name}（${how}）`);
        node.dataset.state = s.state;
        node.selected = x.id === r.id;
      },
    );
    if (ui["reporter-jump"].value !== r.id) ui["reporter-jump"].value = r.id;
    ui["reporter-jump"].disabled = !hooks.editable();

    // 上一位 / 下一位 (检查并提交 on the last one)
    const last = index === count - 1;
    show(ui["prev-reporter"], count > 1);
    ui["prev-reporter"].disabled = index === 0;
    setText(ui["next-reporter"], last ? "检查并提交" : "下一位");
    toggleClass(ui["next-reporter"], "to-review", last);
  }

  // ---- the review: one line per reporter ---------------------------------------------------

  function renderReview(plan, draft, grades) {
    current = { plan, draft, grades };
    const list = ui["review-list"];
    if (list.dataset.mode !== "items") {
      list.replaceChildren();
      list.dataset.mode = "items";
    }
    let gradeParts = 0;
    let gradesGiven = 0;
    let itemsTotal = 0;
    let itemsAnswered = 0;
    for (const r of plan.reporters) {
      const s = reporterStatus(r, draft, grades);
      if (r.grade) {
        gradeParts += 1;
        if (s.mark) gradesGiven += 1;
      }
      itemsTotal += s.items;
      itemsAnswered += s.itemsAnswered;
    }
    syncList(
      list,
      plan.reporters,
      (r) => r.id,
      (r) =>
        h(
          "li.item-review",
          {},
          h("span.name"),
          r.grade ? h("span.grade") : null,
          r.items.length ? h("span.answers") : null,
          h("button.btn.edit-reporter", { type: "button", dataset: { reporter: r.id } }, "修改"),
        ),
      (node, r) => {
        const s = reporterStatus(r, draft, grades);
        setText(node.querySelector(".name"), hooks.reporterById(r.id).name);
        const badge = node.querySelector(".grade");
        if (badge) {
          setText(badge, s.mark || "弃权");
          badge.className = `grade ${gradeClass(grades, s.mark)}`;
        }
        const answers = node.querySelector(".answers");
        if (answers) {
          const blank = s.items - s.itemsAnswered;
          setText(answers, `已答 ${s.itemsAnswered} / ${s.items} 项，弃权 ${blank} 项`);
          toggleClass(answers, "has-blank", blank > 0);
        }
        node.dataset.state = s.state;
        const edit = node.querySelector(".edit-reporter");
        edit.disabled = Boolean(draft.pending);
        edit.setAttribute("aria-label", `修改${hooks.reporterById(r.id).name}的评价`);
      },
    );
    const parts = [`共 ${plan.reporters.length} 人`];
    if (gradeParts) parts.push(`测评等次已评 ${gradesGiven} 人、弃权 ${gradeParts - gradesGiven} 人`);
    if (itemsTotal) {
      parts.push(`测评项目共 ${itemsTotal} 项，已答 ${itemsAnswered} 项、弃权 ${itemsTotal - itemsAnswered} 项`);
    }
    setText(ui["review-summary"], `${parts.join("；")}。`);
    return { allBlank: gradesGiven === 0 && itemsAnswered === 0 };
  }

  // ---- input --------------------------------------------------------------------------------

  function currentReporter() {
    return current && current.plan.reporters[pageIndex()];
  }

  ui["reporter-pages"].addEventListener("click", (event) => {
    if (!current || !hooks.editable()) return;
    const { draft } = current;
    const r = currentReporter();
    if (!r) return;
    const choice = event.target.closest("button.choice");
    if (choice && r.grade) {
      const { grade } = choice.dataset;
      if (draft.marks[r.id] === grade) delete draft.marks[r.id]; // tapped again: 弃权
      else draft.marks[r.id] = grade;
      hooks.changed();
      return;
    }
    const option = event.target.closest("button.option");
    if (option) {
      const { item, option: word } = option.dataset;
      if (!draft.items) draft.items = {};
      const answers = { ...(draft.items[r.id] || {}) };
      if (answers[item] === word) delete answers[item]; // tapped again: 弃权
      else answers[item] = word;
      draft.items[r.id] = answers;
      hooks.changed();
      return;
    }
    if (event.target.closest("#all-first")) openConfirmAll(r);
  });

  // 全部选“能”: only after the voter confirms, and only this reporter's checklist.
  let returnFocus = null;
  function openConfirmAll(r) {
    const first = r.options[0];
    const text = `将本页 ${r.items.length} 项全部选为“${first}”？已选的项会被改为“${first}”。`;
    setText(ui["confirm-all-text"], text);
    setText(ui["confirm-all"], `全部选“${first}”`);
    ui["confirm-all-dialog"].dataset.reporter = r.id;
    returnFocus = document.activeElement;
    show(ui["confirm-all-dialog"], true);
    document.body.classList.add("dialog-open");
    ui["cancel-all"].focus();
  }

  function closeConfirmAll() {
    show(ui["confirm-all-dialog"], false);
    document.body.classList.remove("dialog-open");
    delete ui["confirm-all-dialog"].dataset.reporter;
    const back = document.getElementById("all-first") || returnFocus;
    if (back && back.focus) back.focus({ preventScroll: true });
    returnFocus = null;
  }

  ui["cancel-all"].addEventListener("click", closeConfirmAll);
  ui["confirm-all"].addEventListener("click", () => {
    const r = currentReporter();
    const rid = ui["confirm-all-dialog"].dataset.reporter;
    if (r && r.id === rid && hooks.editable()) {
      const { draft } = current;
      if (!draft.items) draft.items = {};
      draft.items[r.id] = Object.fromEntries(r.items.map((it) => [it.id, r.options[0]]));
      closeConfirmAll();
      hooks.changed();
      return;
    }
    closeConfirmAll();
  });
  ui["confirm-all-dialog"].addEventListener("click", (event) => {
    if (event.target === ui["confirm-all-dialog"]) closeConfirmAll(); // the backdrop: cancel
  });
  document.addEventListener("keydown", (event) => {
    if (ui["confirm-all-dialog"].hidden) return;
    if (event.key === "Escape") {
      event.preventDefault();
      closeConfirmAll();
    } else if (event.key === "Tab") {
      // keep the focus inside the dialog
      const buttons = [ui["cancel-all"], ui["confirm-all"]];
      const i = buttons.indexOf(document.activeElement);
      event.preventDefault();
      buttons[(i + (event.shiftKey ? buttons.length - 1 : 1)) % buttons.length].focus();
    }
  });

  ui["prev-reporter"].addEventListener("click", () => {
    if (current) goTo(pageIndex() - 1, "prev-reporter");
  });
  ui["next-reporter"].addEventListener("click", () => {
    if (!current) return;
    if (pageIndex() >= current.plan.reporters.length - 1) hooks.toReview();
    else goTo(pageIndex() + 1);
  });
  ui["reporter-jump"].addEventListener("change", () => {
    if (!current) return;
    const i = current.plan.reporters.findIndex((r) => r.id === ui["reporter-jump"].value);
    if (i >= 0) goTo(i);
  });
  ui["review-list"].addEventListener("click", (event) => {
    const edit = event.target.closest("button.edit-reporter");
    if (!edit || !current || current.draft.pending) return;
    current.draft.page = edit.dataset.reporter;
    hooks.toForm();
  });

  return { render, renderReview, closeDialog: () => !ui["confirm-all-dialog"].hidden && closeConfirmAll() };
}
