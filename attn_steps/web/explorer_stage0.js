/* attn_steps explorer, stage 0's notes for a typed sentence: where the cut fell back to single
 * characters (a word the dictionary may lack), and the font for characters the site's subset lacks.
 *
 * addRestFont(root): the rest of the GB2312 font's first level (_ext/light_site.py writes it and its
 * rule) added once a reader types, as a FontFace with its unicode-range: the browser fetches the file
 * only when such a character is shown, and the PNG export (document.fonts.load) waits for it.
 * loneNote(record, dict) and fontNote(text): the HTML of the two notes, "" when there is nothing to say.
 * siteRoot(): the site's root URL (null on a page outside a built site), for every widget that loads site files.
 * Defines AttnStage0; explorer_typing.js and poet_view.js call it.
 */
(function () {
  "use strict";
  if (window.AttnStage0) return;
  const esc = window.AttnStage.esc;
  const n = (x) => x.toLocaleString("en-US");
  let restFont = null, restRule = null;

  const siteRoot = window.AttnFiles.siteRoot;

  function addRestFont(root) {
    if (restFont || root === null || typeof FontFace !== "function") return restFont;
    const url = new URL("_static/NotoSansCJKsc-Regular-rest.json", root).href;
    restFont = fetch(url).then((r) => { if (!r.ok) throw new Error(`HTTP ${r.status}`); return r.json(); }).then((rule) => {
      const src = [...rule.local, `url("${new URL(rule.file, root).href}") format("woff2")`].join(", ");
      const face = new FontFace(rule.family, src, { unicodeRange: rule.unicode_range, display: "swap" });
      document.fonts.add(face);
      restRule = rule;
      return face;
    }, () => { restFont = null; });
    return restFont;
  }

  // Where the route fell back to single hanzi, why that may be a word the dictionary lacks.
  function loneNote(record, d) {
    const runs = window.AttnSegmenter.loneRuns(record);
    if (!runs.length) return "";
    const which = d.minCount ? `jieba 词典 ${n(d.jiebaWords)} 个词里词频至少 ${d.minCount} 的，加上本书句子用到的，共 ${n(d.words.length)} 个`
      : `${n(d.words.length)} 个词`;
    return `<p class="ae-type-note ae-lone" data-role="lone-note">${runs.map((run) => run.map((c) => `「${esc(c)}」`).join("")).join("、")}` +
      "被切成了一个个单字。它们可能本来就是单字词；如果其实连成一个词，而上表里也没有这个词，那就是本站的词典没带上它" +
      `（本站的词典是 ${which}），或者 jieba 的词典里也没有它（jieba 默认用 HMM 猜这种新词，本书的分词器不猜）。</p>`;
  }

  // Typed characters of GB2312's second level, which neither font file carries.
  function fontNote(text) {
    const rare = [...new Set(Array.from(text))].filter((c) => restRule && restRule.left_out.includes(c));
    return rare.length ? `<p class="ae-type-note" data-role="font-note">${rare.map((c) => `「${esc(c)}」`).join("")}` +
      "是 GB2312 第二级的字（较少用）。本站的字体没有带上这一级：带上它，整个网站就超过 16 MB 的预算了。系统里没有中文字体时，它显示成方框。</p>" : "";
  }

  window.AttnStage0 = Object.freeze({ siteRoot, addRestFont, loneNote, fontNote });
})();
