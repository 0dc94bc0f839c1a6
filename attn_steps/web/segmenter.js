/* attn_steps segmenter: stage 0 (text -> words) in the browser, attn_steps/segmenter.py line for line.
 *
 * jieba's dictionary method: prefixDict (words and every prefix of a word),
 * dag (every dictionary word starting at each character), route (the path with
 * the highest sum of log P(word), by dynamic programming from the end; ties go
 * to the longer word), follow (the words along it, single Latin letters and
 * digits joined), blocks (what is cut by the dictionary, what stays a token of
 * its own), cut and explain; loneRuns (where a cut fell back to single characters). Python's snake_case names are camelCase here
 * (prefix_dict -> prefixDict, log_prob -> logProb); the keys of explain's
 * records are the Python ones. jieba's HMM for unknown words is out of scope:
 * a run no word covers falls back to single characters.
 *
 * Pure functions over plain values: no DOM, no state. The one name it defines
 * is AttnSegmenter (module.exports under Node); loading it twice is harmless.
 */
(function (root) {
  "use strict";
  if (root.AttnSegmenter) return;

  // jieba 0.42.1's patterns. SKIP lists Python's \s exactly (JS's \s differs in a few code points).
  // U+4E00..U+9FD5 by code, not as \u escapes: the site's font subsetter reads escapes in scripts as
  // characters a page shows, and U+9FD5 (an end of the range, never shown) is not in the font.
  const RANGE = `${String.fromCharCode(0x4e00)}-${String.fromCharCode(0x9fd5)}`;
  const HAN = new RegExp(`([${RANGE}a-zA-Z0-9+#&._%\\-]+)`);
  const HAN_START = new RegExp(`^[${RANGE}a-zA-Z0-9+#&._%\\-]`);
  const SKIP = /(\r\n|[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])/;
  const SKIP_START = /^(\r\n|[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])/;
  const ENG = /^[a-zA-Z0-9]/;
  const HAN_CHAR = new RegExp(`^[${RANGE}]$`);

  // {words, counts, total, source} (segmenter.py's to_json) -> a prefix dictionary.
  function prefixDict(words, counts, total, source) {
    if (!Array.isArray(words) || !Array.isArray(counts) || words.length !== counts.length) {
      throw new Error("the dictionary needs as many counts as words");
    }
    const freq = new Map();
    words.forEach((word, i) => {
      if (typeof word !== "string" || !word || /\s/.test(word)) throw new Error(`bad dictionary word ${JSON.stringify(word)}`);
      if (!Number.isInteger(counts[i]) || counts[i] < 1) throw new Error(`the count of ${word} must be a whole number ≥ 1`);
      freq.set(word, counts[i]);
      for (let end = 1; end < word.length; end++) if (!freq.has(word.slice(0, end))) freq.set(word.slice(0, end), 0);
    });
    if (!Number.isInteger(total) || total < counts.reduce((a, b) => Math.max(a, b), 1)) {
      throw new Error("total must be at least every count");
    }
    const kept = [...freq].filter(([, c]) => c > 0).map(([w]) => w);
    return { freq, total, words: kept, source: source || "", logTotal: Math.log(total) };
  }

  // segmenter.py's pack_words back: {length: the words of that length run together} -> words.
  function unpackWords(groups) {
    const words = [];
    for (const [n, group] of Object.entries(groups)) {
      const chars = Array.from(group), len = Number(n);
      for (let i = 0; i < chars.length; i += len) words.push(chars.slice(i, i + len).join(""));
    }
    return words;
  }

  // to_json's packed table: words grouped by length, each group's counts as the first count
  // and then how much each next one is smaller.
  function fromJson(data) {
    const counts = [];
    for (const n of Object.keys(data.words)) {
      let c = 0;
      data.counts[n].split(",").forEach((x, i) => { c = i ? c - Number(x) : Number(x); counts.push(c); });
    }
    return Object.assign(prefixDict(unpackWords(data.words), counts, data.total, data.source),
                         { minCount: data.min_count, jiebaWords: data.jieba_words });
  }

  // For each position k, the inclusive ends j of every word sentence[k..j]; [k] when none.
  function dag(sentence, d) {
    const graph = [], n = sentence.length;
    for (let k = 0; k < n; k++) {
      const ends = [];
      let i = k, frag = sentence[k];
      while (i < n && d.freq.has(frag)) {  // stop once no word starts with frag
        if (d.freq.get(frag)) ends.push(i);
        i += 1;
        frag = sentence.slice(k, i + 1);
      }
      graph.push(ends.length ? ends : [k]);
    }
    return graph;
  }

  // log P(word) = log(count) − log(total); a word not in the dictionary counts 1, as in jieba.
  function logProb(word, d) {
    return Math.log(d.freq.get(word) || 1) - d.logTotal;
  }

  // (n + 1) pairs [score, end], filled from the end; on equal scores the larger end wins.
  function route(sentence, graph, d) {
    const n = sentence.length, best = new Array(n + 1);
    best[n] = [0, 0];
    for (let k = n - 1; k >= 0; k--) {
      let top = null;
      for (const j of graph[k]) {
        const score = Math.log(d.freq.get(sentence.slice(k, j + 1)) || 1) - d.logTotal + best[j + 1][0];
        if (top === null || score > top[0] || (score === top[0] && j > top[1])) top = [score, j];
      }
      best[k] = top;
    }
    return best;
  }

  // The words along the route, single letters/digits in a row joined (abc, 2024).
  function follow(sentence, best) {
    const words = [];
    let latin = "", k = 0;
    while (k < sentence.length) {
      const end = best[k][1] + 1, word = sentence.slice(k, end);
      if (word.length === 1 && ENG.test(word)) {
        latin += word;
      } else {
        if (latin) { words.push(latin); latin = ""; }
        words.push(word);
      }
      k = end;
    }
    if (latin) words.push(latin);
    return words;
  }

  // text -> [piece, byDictionary] in order; whitespace stays a token ("\r\n" is one).
  function blocks(text) {
    const out = [];
    for (const block of text.split(HAN)) {
      if (!block) continue;
      if (HAN_START.test(block)) { out.push([block, true]); continue; }
      for (const piece of block.split(SKIP)) {
        if (SKIP_START.test(piece)) out.push([piece, false]);
        else for (const ch of piece) out.push([ch, false]);  // code points, as Python iterates
      }
    }
    return out;
  }

  function check(text, d) {
    if (typeof text !== "string") throw new TypeError(`text must be a string, got ${typeof text}`);
    if (!d || !(d.freq instanceof Map)) throw new TypeError("d must be a dictionary from prefixDict or fromJson");
  }

  // The words of text, equal to jieba.lcut(text, HMM=False) over the same dictionary.
  function cut(text, d) {
    check(text, d);
    const words = [];
    for (const [piece, byDictionary] of blocks(text)) {
      if (byDictionary) words.push(...follow(piece, route(piece, dag(piece, d), d)));
      else words.push(piece);
    }
    return words;
  }

  // Every intermediate of cut, one record per block, with segmenter.py's keys.
  function explain(text, d) {
    check(text, d);
    return blocks(text).map(([piece, byDictionary]) => {
      if (!byDictionary) return { text: piece, by_dictionary: false, words: [piece] };
      const graph = dag(piece, d), best = route(piece, graph, d);
      const candidates = graph.map((ends, k) => ends.map((j) => {
        const word = piece.slice(k, j + 1);
        return { word, end: j, log_prob: logProb(word, d), known: Boolean(d.freq.get(word)) };
      }));
      return { text: piece, by_dictionary: true, dag: candidates,
               route: best.map(([score, end]) => ({ score, end })), words: follow(piece, best) };
    });
  }

  // The runs of two or more single hanzi in a row in one explain record's words: no dictionary word
  // covers them together (one-character words, or a word the dictionary lacks).
  function loneRuns(record) {
    const runs = [];
    let run = [];
    for (const w of [...record.words, ""]) {
      if (w.length === 1 && HAN_CHAR.test(w)) { run.push(w); continue; }
      if (run.length > 1) runs.push(run);
      run = [];
    }
    return runs;
  }

  const api = { prefixDict, fromJson, unpackWords, loneRuns, dag, logProb, route, follow, blocks, cut, explain };
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.AttnSegmenter = Object.freeze(api);
})(typeof globalThis !== "undefined" ? globalThis : this);
