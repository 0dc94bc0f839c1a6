/* attn_steps, what the poet's reader types, checked: the opening's characters and the settings, each refusal in Chinese.
 *
 * Pure functions (poet_view.js calls them; poet_link.js checks a link's values through the
 * same page methods, so a box and a link say the same thing). window.AttnPoetInput.
 */
window.AttnPoetInput = window.AttnPoetInput || (function () {
  "use strict";
  const START = window.AttnPoetMath.START;
  // The poet's characters are simplified (OpenCC converted its corpus): an unknown hanzi is most often a traditional form.
  const HAN = /\p{Script=Han}/u, TRADITIONAL = "小诗人的字表只收简体字：如果这是繁体字，请换成简体再写。";

  // Why a character cannot start a poem, in a few words.
  function kindOf(c) {
    if (/[A-Za-zＡ-Ｚａ-ｚ]/.test(c)) return "字母";
    if (/[0-9０-９]/.test(c)) return "数字";
    if (/\p{Extended_Pictographic}/u.test(c)) return "表情符号";
    if (/[\p{P}\p{S}]/u.test(c)) return "标点或符号";
    if (/\s/.test(c)) return "空格";
    return "字";
  }

  // The characters of a text and their ids, or { error } in Chinese. index (character → id) is null before the
  // weights are loaded: only the form is checked then; after, each character must be in it.
  // how: { most (characters allowed), line (most is one verse: say so), known (the vocabulary's size) }.
  function check(text, index, how) {
    const chars = Array.from(String(text).trim()), most = how.most;
    if (chars.length > most) return { chars, error: `最多 ${most} 个字${how.line ? "（一句诗）" : ""}；现在有 ${chars.length} 个。` };
    const odd = chars.filter((ch) => kindOf(ch) !== "字" && !"，。".includes(ch));
    if (odd.length) return { chars, error: `小诗人只认识汉字和，。：${[...new Set(odd)].map((ch) => `「${ch}」是${kindOf(ch)}`).join("，")}。请删掉它。` };
    if (chars.length && chars.every((ch) => "，。".includes(ch))) return { chars, error: "只有标点：请写至少一个汉字，或者留空让它从头写。" };
    if (!index) return { chars };
    const unknown = chars.filter((ch) => !index.has(ch));
    if (unknown.length) return { chars, unknown, error: `${[...new Set(unknown)].map((ch) => `「${ch}」`).join("")}不在小诗人认识的 ${how.known} 个字里，它没法从这里接着写：请换一个字。` +
      (unknown.some((ch) => HAN.test(ch)) ? TRADITIONAL : "") };
    return { chars, ids: [START, ...chars.map((ch) => index.get(ch))] };
  }

  // The rules of poet.generate's arguments (top_k null: every character; V the vocabulary's size), each broken one
  // told in Chinese; returns o.
  function checked(o, V) {
    const t = o.temperature, k = o.top_k, seed = o.seed;
    if (typeof t !== "number" || !(t > 0) || !Number.isFinite(t)) throw new Error("温度要是大于 0 的数，例如 0.8（越低越保守）。");
    if (k !== null && (!Number.isInteger(k) || k < 1 || k > V)) throw new Error(`top-k 要是 1 到 ${V} 之间的整数，例如 20。`);
    if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new Error("种子要是 0 到 4294967295 之间的整数，例如 0。");
    return o;
  }

  return { kindOf, check, checked };
})();
