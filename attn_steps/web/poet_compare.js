/* attn_steps, the poet's two poems compared: the same seed with every head and with some heads removed.
 *
 * What changes is told three ways: the two poems side by side (poet_view.js lays them
 * out), their rhyme characters (the ends of the even lines) marked with their 平水韵
 * group and whether each one rhymes with the one before (verse.js's table, shipped with
 * the weights), and what removing each of those heads costs as measured in Python
 * (ats.head_effects over the test poems, passed to the page by poet_widget).
 * Pure functions to HTML. window.AttnPoetCompare.
 */
window.AttnPoetCompare = window.AttnPoetCompare || (function () {
  "use strict";
  const esc = window.AttnStage.esc;
  const signed = (v) => (v > 0 ? "+" : v < 0 ? "−" : "") + Math.abs(v).toFixed(2);
  const headName = (key) => { const [l, j] = key.split(","); return `第 ${l} 层 · 头 ${j}`; };

  // The rhyme characters of a poem of regular form (verse.js's verseForm): the end of each even line, its index
  // among the characters, its groups, the one shown (shared with the previous rhyme when they rhyme) and whether it
  // rhymes with the previous one. verse: AttnVerse.withTable(the table shipped with the weights), or null.
  // null without a table; { form: null } for a poem of another form.
  function rhymeMarks(text, verse) {
    if (!verse) return null;
    const form = verse.verseForm(text);
    if (!form) return { form: null, marks: [] };
    const [L, n] = form, chars = Array.from(text), marks = [];
    for (let j = 1; j < n; j += 2) {
      const index = j * (L + 1) + L - 1, ch = chars[index], groups = verse.rhymeGroups(ch), prev = marks[marks.length - 1];
      const rhymes = prev ? verse.rhymes(prev.char, ch) : null, before = prev ? prev.groups : [];
      marks.push({ index, char: ch, groups, rhymes, group: (rhymes ? groups.find((g) => before.includes(g)) : groups[0]) || null });
    }
    return { form, marks };
  }

  // A group's name under its character: without 上平/下平/上声/去声/入声 (七阳 for 下平七阳); in full beside the poem.
  const short = (group) => (group ? group.replace(/^(上平|下平|上声|去声|入声)/, "") : "?");

  // One line beside the poem, what a screen reader reads: each rhyme character, its group, and whether it rhymes.
  function summaryHTML(r) {
    if (r === null) return "";
    if (!r.form) return "不是四句或八句、每句五或七字的格律诗：不标韵脚。";
    const parts = r.marks.map((m, k) => `「${esc(m.char)}」（${m.group ? esc(m.group) : "韵表里没有"}）` +
      (k === 0 ? "" : m.rhymes ? " 押韵 ✓" : " 不押 ✗"));
    return `韵脚（平水韵）：${parts.join(" → ")}`;
  }

  // The marks on the poem's characters (data-group, data-rhyme; the CSS draws them).
  function mark(poemBox, r) {
    if (!r || !r.form) return;
    const chars = [...poemBox.querySelectorAll(".ap-given, .ap-ch:not(.ap-end)")];
    r.marks.forEach((m, k) => {
      const el = chars[m.index];
      if (!el) return;
      el.dataset.group = short(m.group);
      el.dataset.rhyme = k === 0 ? "first" : m.rhymes ? "yes" : "no";
      el.classList.add("ap-rhyme-char");
    });
  }

  // The measured cost of the heads a poem was written without (effects: poet_web.effects_payload's).
  function effectsHTML(effects, removed, mode) {
    if (!effects || !removed.length) return "";
    const slots = effects.slots, head = `<tr><th scope="col">去掉的头</th>${slots.map((s) => `<th scope="col">${esc(s)}</th>`).join("")}</tr>`;
    const intact = `<tr class="ap-intact"><th scope="row">完整的模型：平均每字 log p</th>${effects.intact.map((v) => `<td>${signed(v)}</td>`).join("")}</tr>`;
    const rows = removed.map((key) => {
      const d = effects.delta[key];
      return `<tr><th scope="row">${headName(key)}</th>` + (d
        ? d.map((v) => (v === null ? "<td>—</td>" : `<td class="${v <= -effects.strong ? "ap-strong" : ""}">${signed(v)}</td>`)).join("")
        : `<td colspan="${slots.length}">没有量过</td>`) + "</tr>";
    });
    const modeName = { mean: "换成它的平均输出", zero: "换成 0" };
    const notes = [`在${effects.poems ? ` ${effects.poems} 首` : ""}测试诗上量的：每次只去掉一个头（${modeName[effects.mode] || effects.mode}），` +
      `每个字的 log p 平均变了多少（负数 = 模型更没把握写出原诗的字；加粗：至少差 ${effects.strong} nats）。`];
    if (removed.length > 1) notes.push("几个头一起去掉的影响，不一定是各自影响的和。");
    if (mode !== effects.mode) notes.push(`这首诗的头是${modeName[mode]}，表里是${modeName[effects.mode]}量的。`);
    return `<table class="ap-effects-table"><caption>去掉的头，量出来的影响</caption><thead>${head}</thead>` +
      `<tbody>${intact}${rows.join("")}</tbody></table><p class="ap-note">${notes.join("")}</p>`;
  }

  return { rhymeMarks, summaryHTML, mark, effectsHTML, headName };
})();
