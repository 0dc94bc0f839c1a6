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

  // Chapter 4's head from wordvecs.export_head_table: each row is [scaled score against 苹果's query,
  // vote (v·u)]. tokens as training.head_tokens makes them -> {sense, p, weights} or {unknown: [words]}.
  function headVerdict(tokens, table, rows) {
    const unknown = tokens.filter((t) => !rows.index.has(t));
    if (unknown.length) return { unknown };
    const target = tokens.indexOf(table.target);
    if (target < 0) throw new Error(`the sentence has no ${table.target}: the head classifies that word`);
    if (tokens.length < 2) throw new Error(`the head needs a word besides ${table.target} to look at`);
    const s = tokens.map((t) => rows.values[2 * rows.index.get(t)]);
    const r = tokens.map((t) => rows.values[2 * rows.index.get(t) + 1]);
    const top = Math.max(...s.filter((_, i) => i !== target));
    const e = s.map((v, i) => (i === target ? 0 : Math.exp(v - top)));
    const total = e.reduce((a, b) => a + b, 0), weights = e.map((v) => v / total);
    const prob = 1 / (1 + Math.exp(-(weights.reduce((a, w, i) => a + w * r[i], 0) + table.b)));
    return prob > 0.5 ? { sense: table.senses[1], p: prob, weights } : { sense: table.senses[0], p: 1 - prob, weights };
  }

  const api = { loadTable, lookup, headVerdict };
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.AttnWordVecs = Object.freeze(api);
})(typeof globalThis !== "undefined" ? globalThis : this);
