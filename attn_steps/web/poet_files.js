/* attn_steps, the poet's files: the weights (and what travels with them) fetched from the site, once, when first used.
 *
 * The site keeps them in _static/attn-poet/ (attn_steps/poet_web.py writes them):
 * poet.json (configuration, vocabulary, model_id, each tensor's place in poet.bin,
 * the heads' mean outputs, the rhyme table of the vocabulary) and poet.bin. The bytes
 * are counted as they arrive; files whose model_id is not the page's are refused. No
 * other host is ever asked. Messages in Chinese. window.AttnPoetFiles.
 */
window.AttnPoetFiles = window.AttnPoetFiles || (function () {
  "use strict";

  // poet.bin's bytes, total of them, reporting each chunk's running count to say(got, total).
  function readBytes(r, total, say) {
    if (!r.ok) throw new Error(`权重下载失败（HTTP ${r.status}）`);
    if (!r.body || !r.body.getReader) return r.arrayBuffer();
    const reader = r.body.getReader(), out = new Uint8Array(total);
    let got = 0;
    const pump = () => reader.read().then(({ done, value }) => {
      if (done) {
        if (got !== total) throw new Error(`权重只下载了 ${got} 字节，应有 ${total}`);
        return out.buffer;
      }
      if (got + value.length > total) throw new Error("权重文件比清单说的大：拒绝使用");
      out.set(value, got); got += value.length;
      say(got, total);
      return pump();
    });
    return pump();
  }

  // The model (AttnPoetMath.fromFiles) from the folder at base, refused unless its model_id is modelId.
  // say(text) tells the reader what is happening ("" when done).
  function load(base, modelId, say) {
    say("正在下载小诗人的权重……");
    return fetch(base + "poet.json").then((r) => { if (!r.ok) throw new Error(`权重清单下载失败（HTTP ${r.status}）`); return r.json(); })
      .then((manifest) => {
        if (manifest.model_id !== modelId) {
          throw new Error(`网站上的权重（${String(manifest.model_id).slice(0, 12)}）不是本页构建时的模型（${modelId.slice(0, 12)}），拒绝使用：请重新构建本书。`);
        }
        const kb = (n) => Math.round(n / 1024);
        return fetch(base + "poet.bin")
          .then((r) => readBytes(r, manifest.bytes, (got, total) => say(`正在下载小诗人的权重：${kb(got)} / ${kb(total)} KB`)))
          .then((buf) => {
            const model = window.AttnPoetMath.fromFiles(manifest, buf);
            // The 平水韵 table (verse.js's {group: characters}), when the build shipped it and the page has verse.js.
            model.verse = manifest.rhyme && window.AttnVerse ? window.AttnVerse.withTable(manifest.rhyme) : null;
            say("");
            return model;
          });
      }).catch((e) => { say(""); throw e; });
  }

  return { load, readBytes };
})();
