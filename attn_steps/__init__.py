"""attn_steps: scaled dot-product attention, one visible stage at a time.

    import attn_steps as ats
    X = ats.embed("我喜欢的水果是橙子和苹果", dim=10)
    s = ats.self_attention(X, ats.init_weights(d_model=10, d_k=6, seed=0))
    ats.plot_steps(s)

Data flows one way: embeddings (text → X), attention (X, W → stages; their
formulas and captions in stages, input checks in checks; masks and padded
batches in masks, several heads in multi_head, positions and layer norm in
layers), plotting (stages → figures; alt_text: each figure in words, its alt text
on the site), fonts (so Chinese labels render); training
(sentences → a head whose weights attention and plotting then show);
explorer (X → every stage again, in the reader's browser, with controls);
tiles (the same numbers computed as real systems do: online softmax,
FlashAttention-style tiles, a KV cache, and a widget stepping through the tiles);
poet (a small character GPT trained on Tang poems, every head a Steps from
self_attention; its network on arrays in gpt), head_roles (where each of its
heads looks, as a score), knockouts (what each head does: what removing it
costs) and verse (a poem's form, and rhyme by the 平水韵 groups).
"""

from .attention import (
    Steps,
    Weights,
    as_frame,
    attend,
    attention,
    init_weights,
    mask,
    project,
    scale,
    scores,
    self_attention,
    softmax,
    softmax_loop,
)
from .masks import PAD, Batch, batch_attention, causal_mask, pad_batch
from .multi_head import MultiHead, fused_multi_head, multi_head_attention
from .layers import layer_norm, positional_encoding
from .spread import row_entropy, row_peak
from . import margins  # chapter 4: when two sets of runs differ
from .embeddings import (
    INSTALL_COMMAND,
    ModelNotInstalledError,
    embed,
    embedding_source,
    segment,
    source_note,
    unique_labels,
    word_label,
)
from .fonts import use_cjk_font
from .corpus import SENSES, apple_sentences
from .training import TrainedHead, train_head
from .plotting import heatmap, plot_heads, plot_history, plot_row, plot_steps
from . import alt_text  # each figure's alt text, from its numbers: ats.alt_text.describe(fig, "…") for a figure of your own
from .explorer import Explorer, explore
from .tiles import (
    KVDecode,
    OnlineSoftmax,
    Tile,
    TiledAttention,
    block_exp,
    block_max,
    blocks,
    decode_multiply_adds,
    kv_cache_decode,
    online_softmax,
    rescale,
    running_max,
    running_output,
    running_sum,
    tiled_attention,
)
from .tile_plots import plot_decode_cost, plot_kv_cache, plot_online_softmax, plot_tile_grid
from .tile_widget import TileWidget, tile_widget
from .poet import Poet, PoetConfig, PoetRun, load_poet
from .verse import random_pair_rate, rhyme_groups, rhyme_pairs, rhyme_rate, rhymes, verse_form
from .head_roles import head_roles
from .knockouts import attention_at_slots, head_does, head_effects, head_table, knockout_poems
from .poet_corpus import corpus_info, test_poems, training_log
from .poet_plots import (plot_block, plot_head_grid, plot_next_char, plot_poem_attention, plot_rhyme_rates,
                         plot_training)
from .poet_web import poet_widget
from . import frame_html

frame_html.register()  # in a notebook: every DataFrame's header corner names its rows (a screen reader reads it)

__all__ = [
    "INSTALL_COMMAND",
    "SENSES",
    "TrainedHead",
    "apple_sentences",
    "train_head",
    "PAD",
    "Batch",
    "ModelNotInstalledError",
    "MultiHead",
    "Steps",
    "Weights",
    "as_frame",
    "explore",
    "Explorer",
    "attend",
    "attention",
    "batch_attention",
    "causal_mask",
    "embed",
    "embedding_source",
    "fused_multi_head",
    "heatmap",
    "init_weights",
    "layer_norm",
    "mask",
    "multi_head_attention",
    "pad_batch",
    "plot_heads",
    "plot_history",
    "plot_row",
    "plot_steps",
    "positional_encoding",
    "row_entropy",
    "row_peak",
    "project",
    "scale",
    "scores",
    "segment",
    "self_attention",
    "softmax",
    "softmax_loop",
    "source_note",
    "unique_labels",
    "use_cjk_font",
    "word_label",
    # tiles (chapter 8)
    "KVDecode",
    "OnlineSoftmax",
    "Tile",
    "TiledAttention",
    "TileWidget",
    "block_exp",
    "block_max",
    "blocks",
    "decode_multiply_adds",
    "kv_cache_decode",
    "online_softmax",
    "plot_decode_cost",
    "plot_kv_cache",
    "plot_online_softmax",
    "plot_tile_grid",
    "rescale",
    "running_max",
    "running_output",
    "running_sum",
    "tile_widget",
    "tiled_attention",
    # the poet (a trained character GPT) and its heads' roles
    "Poet",
    "PoetConfig",
    "PoetRun",
    "head_roles",
    # what removing a head costs (chapter 9: where a head looks is not what it does)
    "head_effects",
    "head_does",
    "knockout_poems",
    "attention_at_slots",
    "head_table",
    "plot_poem_attention",
    "plot_rhyme_rates",
    "corpus_info",
    "test_poems",
    "training_log",
    "plot_block",
    "plot_head_grid",
    "plot_next_char",
    "plot_training",
    "load_poet",
    "poet_widget",
    # regular verse: form and rhyme (平水韵), chapter 9
    "verse_form",
    "rhyme_groups",
    "rhymes",
    "rhyme_pairs",
    "rhyme_rate",
    "random_pair_rate",
]
