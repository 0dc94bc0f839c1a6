/* attn_steps word vectors in the browser: attn_steps/wordvecs.py's load_table and lookup.
 *
 * The table (exported at build time by wordvecs.export_table) holds, for the
 * dictionary's most frequent words (listed in the table, packed as segmenter.js's
 * unpackWords reads them) and every fallback character, its vector
 * from embed(word, dim, context=False) as little-endian int16 with one scale
 * per column: value = q · scale[c]. Per word, no context: unlike the chapters'
 * tok2vec vectors, 苹果 has one row whatever surrounds it.
 *
 * headVerdict runs chapter 4's trained head from its own two-column table (export_head_table).
 *
 * Pure functions: no DOM, no state. Defines AttnWordVecs (module.exports under Node).
 */
(function (root) {
  "use strict";
  if (root.AttnWordVecs) return;

  function base64Bytes(text) {
    if (typeof atob === "function") return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    return new Uint8Array(Buffer.from(text, "base64"));  // Node, for scripts
  }

  // table (the exported JSON) and d (AttnSegmenter.fromJson of the same dictionary) ->
  // {tokens, index: Map token -> row, dim, values: Float64Array rows·dim, source, words: how many are words}.
  function loadTable(table, d) {
    const Seg = root.AttnSegmenter || require("./segmenter.js");  // a page loads both; Node needs the file
    const words = Seg.unpackWords(table.words);
    if (table.dictionary_words !== d.words.length || !words.every((w) => d.freq.get(w))) {
      throw new Error("this vector table was exported for another dictionary: export it again from this one");
    }
    const tokens = [...words, ...Array.from(table.extra)];
    const bytes = base64Bytes(table.vectors), view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dim = table.dim, values = new Float64Array(tokens.length * dim);
    if (bytes.byteLength !== values.length * 2) throw new Error("the vector table is truncated");
    for (let i = 0; i < values.length; i++) values[i] = view.getInt16(2 * i, true) * table.scale[i % dim];
    return { tokens, index: new Map(tokens.map((t, i) => [t, i])), dim, values, source: table.source, words: words.length };
  }

  // words -> {X: one array of dim numbers per word (null when the table lacks it), missing: positions}.
  function lookup(words, vectors) {
    const X = [], missing = [];
    words.forEach((word, i) => {
      const row = vectors.index.get(word);
      if (row === undefined) { X.push(null); missing.push(i); return; }
      X.push(Array.from(vectors.values.subarray(row * vectors.dim, (row + 1) * vectors.dim)));
    });
    return { X, missing };
  }

  // Chapter 4's head from wordvecs.export_head_table (wordvecs.head_reading and head_verdict): each row is
  // [scaled score against 苹果's query, vote (v·u)]. tokens as training.head_tokens makes them -> {unknown: [words]}
  // or every number the page draws: per word scores (−∞ for 苹果, the query), weights, votes, contributions
  // (w × vote); logit = Σ contributions + b, prob = p(品牌); the verdict (sense, p); deciding, the index of the
  // word that pushed hardest toward it (−1: none did, b decided); and calibration, the bin of held-out
  // verdicts as sure as this one ({lo, hi, sentences, correct}), null when the table has none.
  function headVerdict(tokens, table, rows) {
    const unknown = tokens.filter((t) => !rows.index.has(t));
    if (unknown.length) return { unknown };
    const target = tokens.indexOf(table.target);
    if (target < 0) throw new Error(`the sentence has no ${table.target}: the head classifies that word`);
    if (tokens.length < 2) throw new Error(`the head needs a word besides ${table.target} to look at`);
    const s = tokens.map((t, i) => (i === target ? -Infinity : rows.values[2 * rows.index.get(t)]));
    const votes = tokens.map((t) => rows.values[2 * rows.index.get(t) + 1]);
    const top = Math.max(...s);
    const e = s.map((v) => Math.exp(v - top));
    const total = e.reduce((a, b) => a + b, 0), weights = e.map((v) => v / total);
    const contributions = weights.map((w, i) => w * votes[i]);
    const logit = weights.reduce((a, w, i) => a + w * votes[i], 0) + table.b, prob = 1 / (1 + Math.exp(-logit));
    const brand = prob > 0.5, sense = table.senses[brand ? 1 : 0], p = brand ? prob : 1 - prob;
    const toward = contributions.map((c) => (brand ? c : -c)), best = Math.max(...toward);
    const bins = table.calibration || [];
    const calibration = bins.find((b, k) => b.lo <= p && (p < b.hi || k === bins.length - 1)) || null;
    return { sense, p, weights, scores: s, votes, contributions, logit, prob,
             deciding: best > 0 ? toward.indexOf(best) : -1, calibration };
  }

  // The head table's columns: wordvecs.head_reading's names (the CSV's header) and the page's headings.
  const HEAD_COLUMNS = [["score", "分数 q·k/√d_k"], ["weight", "权重 w"], ["vote", "投票 v·u"], ["weight_x_vote", "w × 投票"]];
  const num = (v, digits) => v.toFixed(digits).replace("-", "−");

  // headVerdict's v as explorer_export.js's figure model (its CSV is wordvecs.head_reading's to_csv); labels name
  // the rows, paint(x, kind, lim) -> [fill, ink]. The score is left white, the weight a probability, votes signed.
  function headFigure(v, labels, title, source, paint) {
    const values = labels.map((_, i) => [v.scores[i], v.weights[i], v.votes[i], v.contributions[i]]);
    const lims = [0, 1, Math.max(...v.votes.map(Math.abs)), Math.max(...v.contributions.map(Math.abs))];
    const painted = values.map((row) => row.map((x, j) => (!Number.isFinite(x) ? ["", "#424a53"] : j === 0 ? ["#ffffff", "#1f2328"]
      : paint(x, j === 1 ? "prob" : "signed", lims[j]))));
    return { name: "head", index: "token", title, source, note: `判为「${v.sense}」，概率 ${num(v.p, 2)}`,
      rowLabels: labels, colLabels: HEAD_COLUMNS.map(([c]) => c), values,
      texts: values.map((row) => row.map((x, j) => (Number.isFinite(x) ? num(x, j % 2 ? 3 : 2) : "−∞"))),
      fills: painted.map((row) => row.map(([f]) => f)), inks: painted.map((row) => row.map(([, k]) => k)) };
  }

  // How often held-out verdicts as sure as this one were right: bin from headVerdict, bins the table's calibration.
  function calibrationLine(bin, bins) {
    const total = bins.reduce((a, b) => a + b.sentences, 0);
    const range = bin.hi >= 1 ? `p ≥ ${bin.lo.toFixed(2)}` : `p 在 ${bin.lo.toFixed(2)} 到 ${bin.hi.toFixed(2)} 之间`;
    return `在留出的 ${total} 句里，${range} 的判断有 ${bin.sentences} 句，其中 ${bin.correct} 句是对的` +
      (bin.sentences ? `（${(100 * bin.correct / bin.sentences).toFixed(1)}%）。` : "。");
  }

  const api = { loadTable, lookup, headVerdict, headFigure, calibrationLine, HEAD_COLUMNS };
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.AttnWordVecs = Object.freeze(api);
})(typeof globalThis !== "undefined" ? globalThis : this);
