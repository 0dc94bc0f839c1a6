/* attn_steps verse: a poem's form and its rhyme by the 平水韵 groups, attn_steps/verse.py function for function.
 *
 * verseForm (verse_form: [characters per line, lines] of regular verse, else
 * null), rhymeGroups (rhyme_groups: a character's groups, [] when the table
 * lacks it), rhymes (two characters share a group), rhymePairs (rhyme_pairs: the
 * consecutive even-line ends, [] for a poem of another form) and rhymeRate
 * (rhyme_rate: the share of those pairs that rhyme, over the poems of correct
 * form and the pairs the table can judge). The table is data, never fetched
 * here: verse.rhyme_table_json()'s {group: its characters}, read once by
 * loadTable (or withTable, which gives these functions with the table bound).
 * A poem is read by code points, as Python reads a str (a few characters of
 * the corpus lie outside the BMP). Python's snake_case names are camelCase here.
 *
 * Pure functions over plain values: no DOM, no state. The one name it defines
 * is AttnVerse (module.exports under Node); loading it twice is harmless.
 */
(function (root) {
  "use strict";
  if (root.AttnVerse) return;

  // ---- form ----------------------------------------------------------------------

  // [L, n] of a regular poem (4 or 8 lines of 5 or 7 characters, ，。 alternating), else null.
  function verseForm(poem) {
    const chars = Array.from(poem);
    const L = chars.indexOf("，");
    if (L < 0) return null;
    const n = Math.floor(chars.length / (L + 1));
    let expected = "";
    for (let j = 0; j < n; j++) expected += "x".repeat(L) + "，。"[j % 2];
    const shape = chars.map((ch) => ("，。".includes(ch) ? ch : "x")).join("");
    return [5, 7].includes(L) && [4, 8].includes(n) && shape === expected ? [L, n] : null;
  }

  // The last characters of lines 2, 4, 6, 8 of a poem of form [L, n].
  function evenLineEnds(poem, form) {
    const chars = Array.from(poem), [L, n] = form, ends = [];
    for (let j = 1; j < n; j += 2) ends.push(chars[j * (L + 1) + L - 1]);
    return ends;
  }

  // [[end of line 2, of line 4], [4, 6], [6, 8]]; [] for a poem of another form.
  function rhymePairs(poem) {
    if (typeof poem !== "string") throw new TypeError(`a poem is a str, got ${typeName(poem)}`);
    const form = verseForm(poem);
    if (form === null) return [];
    const ends = evenLineEnds(poem, form);
    return ends.slice(1).map((end, k) => [ends[k], end]);
  }

  // ---- the table -------------------------------------------------------------------

  // {group: "characters"} -> Map character -> its groups, sorted (as pingshui.tsv lists them).
  function loadTable(table) {
    if (table instanceof Map) return table;
    if (!table || typeof table !== "object" || Array.isArray(table)) {
      throw new TypeError("the rhyme table is verse.rhyme_table_json()'s object {group: characters}");
    }
    const groups = new Map();
    for (const [group, chars] of Object.entries(table)) {
      if (typeof chars !== "string") throw new TypeError(`the characters of ${group} must be one string`);
      for (const ch of chars) {
        if (!groups.has(ch)) groups.set(ch, []);
        groups.get(ch).push(group);
      }
    }
    for (const list of groups.values()) list.sort();
    return groups;
  }

  // A character's groups, e.g. rhymeGroups("光", t) -> ["下平七阳"]; [] when the table lacks it.
  function rhymeGroups(ch, table) {
    if (typeof ch !== "string" || Array.from(ch).length !== 1) {
      const got = typeof ch === "string" ? `a str of length ${Array.from(ch).length}` : typeName(ch);
      throw new TypeError(`rhyme_groups takes one character (a str of length 1), got ${got}`);
    }
    return (loadTable(table).get(ch) || []).slice();
  }

  // Whether two characters share a group (a character the table lacks: never).
  function rhymes(a, b, table) {
    const t = loadTable(table), other = rhymeGroups(b, t);
    return rhymeGroups(a, t).some((g) => other.includes(g));
  }

  // Whether the table can judge a pair: both characters have a group.
  function judged(a, b, table) {
    const t = loadTable(table);
    return rhymeGroups(a, t).length > 0 && rhymeGroups(b, t).length > 0;
  }

  // ---- the rate ----------------------------------------------------------------------

  function typeName(x) {
    if (x === null) return "NoneType";
    if (Array.isArray(x)) return "list";
    return { string: "str", number: Number.isInteger(x) ? "int" : "float", boolean: "bool" }[typeof x] || typeof x;
  }

  function checked(poems) {
    if (typeof poems === "string" || !poems || typeof poems[Symbol.iterator] !== "function") {
      throw new TypeError("poems must be a list of poem strings (e.g. ats.test_poems()), not " +
                          (typeof poems === "string" ? "one string" : typeName(poems)));
    }
    const list = Array.from(poems);
    for (const p of list) {
      if (typeof p !== "string") throw new TypeError(`every poem must be a string (str), got ${typeName(p)}`);
    }
    return list;
  }

  // The share of rhyme pairs that rhyme, over the poems of correct form and the pairs the table can judge.
  function rhymeRate(poems, table) {
    const t = loadTable(table);
    const pairs = checked(poems).flatMap(rhymePairs);
    if (!pairs.length) {
      throw new Error("none of the poems is regular verse (4 or 8 lines of 5 or 7 characters, ，。 alternating): " +
                      "there is no rhyme pair to measure");
    }
    const known = pairs.filter(([a, b]) => judged(a, b, t));
    if (!known.length) {
      throw new Error("no rhyme pair of these poems can be judged: every one has a character the rhyme table lacks");
    }
    return known.filter(([a, b]) => rhymes(a, b, t)).length / known.length;
  }

  // The functions with one table bound: withTable(json).rhymes("光", "霜").
  function withTable(table) {
    const t = loadTable(table);
    return Object.freeze({
      verseForm, rhymePairs,
      rhymeGroups: (ch) => rhymeGroups(ch, t),
      rhymes: (a, b) => rhymes(a, b, t),
      judged: (a, b) => judged(a, b, t),
      rhymeRate: (poems) => rhymeRate(poems, t),
    });
  }

  const api = { verseForm, evenLineEnds, rhymePairs, loadTable, rhymeGroups, rhymes, judged, rhymeRate, withTable };
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.AttnVerse = Object.freeze(api);
})(typeof globalThis !== "undefined" ? globalThis : this);
