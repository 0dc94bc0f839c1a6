/* attn_steps, the poet's files: the weights (and what travels with them), loaded once, when first used.
 *
 * The site keeps them in _static/attn-poet/ (attn_steps/poet_web.py writes them); in a Jupyter
 * front end the kernel sends the same bytes under the same names (files.js, attn_steps/live.py):
 * poet.json (configuration, vocabulary, model_id, each tensor's place in poet.bin,
 * the heads' mean outputs, the rhyme table of the vocabulary) and poet.bin. The bytes
 * are counted as they arrive from the site; files whose model_id is not the page's are refused.
 * No other host is ever asked. Messages in Chinese. window.AttnPoetFiles.
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

  // The model (AttnPoetMath.fromFiles) from folder (relative to the site's root, or the kernel's name for it),
  // refused unless its model_id is modelId. root: the widget's <div> (files.js: site or kernel).
  // say(text) tells the reader what is happening ("" when done).
  function load(root, folder, modelId, say) {
    const F = window.AttnFiles, fromKernel = F.where(root) === "kernel";
    say(fromKernel ? "正在从内核读取小诗人的权重……" : "正在下载小诗人的权重……");
    const kb = (n) => Math.round(n / 1024);
    return F.json(root, folder + "poet.json").catch((e) => { throw new Error(`权重清单读取失败（${e.message}）`); })
      .then((manifest) => {
        if (manifest.model_id !== modelId) {
          throw new Error(`${fromKernel ? "内核里" : "网站上"}的权重（${String(manifest.model_id).slice(0, 12)}）不是本页构建时的模型（${modelId.slice(0, 12)}），拒绝使用：请重新${fromKernel ? "运行这个单元格" : "构建本书"}。`);
        }
        const bytes = fromKernel ? F.get(root, folder + "poet.bin")
          : fetch(new URL(folder + "poet.bin", F.siteRoot()).href)
            .then((r) => readBytes(r, manifest.bytes, (got, total) => say(`正在下载小诗人的权重：${kb(got)} / ${kb(total)} KB`)));
        return bytes.then((buf) => {
          if (buf.byteLength !== manifest.bytes) throw new Error(`权重有 ${buf.byteLength} 字节，清单说应有 ${manifest.bytes}`);
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
