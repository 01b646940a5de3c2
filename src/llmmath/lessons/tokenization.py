import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Tokenization is compression")


@app.cell
def _():
    import html
    import math
    from collections import Counter

    import marimo as mo
    import numpy as np

    from llmmath.data import load_corpus
    from llmmath.lessons import _kit as kit
    from llmmath.ngram import NGramLM
    from llmmath.tokenizers import (
        PreTokenizer,
        Tokenizer,
        count_pretokens,
        learn_merges,
        vocab_from_merges,
    )

    return (Counter, NGramLM, PreTokenizer, Tokenizer, count_pretokens, html, kit,
            learn_merges, load_corpus, math, mo, np, vocab_from_merges)


@app.cell(hide_code=True)
def _(kit):
    kit.header("tokenization")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    A language model never sees letters. Its input is a sequence of
    **tokens**, ids from a fixed vocabulary, and its loss is counted per
    token. How text is cut into tokens is decided before training by a
    separate algorithm, and nearly every large model uses the same one:
    **byte-pair encoding** (BPE). It starts from single bytes and, again and
    again, fuses the pair of neighbouring symbols that occurs most often into
    a new symbol, the way Gage's 1994 compressor did.

    Fewer, longer tokens make shorter sequences, which is cheaper to model.
    They also change what a loss "per token" means: a model that predicts
    whole syllables has a harder job per token than one that predicts single
    letters, and its perplexity per token is larger even when it models the
    text better. The fair scale is **bits per character**.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\text{bits per character} = \frac{H_{\text{token}}}{\ln 2}\cdot"
        r"\frac{N_{\text{tokens}}}{N_{\text{chars}}}",
        caption=(
            r"$H_{\text{token}}$ is the model's mean loss per token in nats (its "
            r"cross-entropy), $N_{\text{tokens}}$ and $N_{\text{chars}}$ count the tokens and "
            r"the characters of the same text. The total number of bits for the text does not "
            r"depend on how it was cut; dividing by characters gives a number every tokenizer "
            r"shares."
        ),
    )
    return


@app.cell
def _(PreTokenizer, count_pretokens, learn_merges, mo):
    sentence = "the cat sat on the mat, then the rat sat on the hat."
    pre = PreTokenizer()                         # GPT-2's pattern: words keep their space
    pieces = pre.pretokens(sentence)
    counts = count_pretokens([sentence], pre)    # how often each piece occurs
    merges = learn_merges({p.encode("utf-8"): n for p, n in counts.items()}, 14)
    mo.show_code()
    return counts, merges, pieces, sentence


@app.cell(hide_code=True)
def _(html, merges, mo, pieces):
    _shown = " ".join(f"<code>{html.escape(p)}</code>" for p in pieces)
    _first = " , ".join(f"{a.decode()!r}+{b.decode()!r}" for a, b in merges[:4])
    mo.md(f"""
    ## BPE on one sentence

    First the text is cut into pieces that merges may never cross (GPT-2's
    pattern keeps a word together with the space before it):
    {_shown}. Inside the pieces, everything starts as single bytes. Then
    BPE counts every pair of neighbouring symbols, over all pieces, and fuses
    the most frequent one; ties go to the pair whose byte strings are
    greater. It learned {len(merges)} merges here; the first ones are
    {_first}.
    """)
    return


@app.cell(hide_code=True)
def _(merges, mo):
    n_merges = mo.ui.slider(0, len(merges), step=1, value=4, show_value=True,
                            label="merges applied", debounce=False)
    n_merges
    return (n_merges,)


@app.cell
def _(Tokenizer, kit, merges, n_merges, sentence, vocab_from_merges):
    k = kit.value(n_merges)
    tok_k = Tokenizer(vocab_from_merges(merges[:k]), merges[:k])   # 256 bytes + k merges
    ids_k = tok_k.encode(sentence)
    pieces_k = [tok_k.decode([i]) for i in ids_k]
    return ids_k, k, pieces_k


@app.cell(hide_code=True)
def _(html, ids_k, k, merges, mo, pieces_k, sentence):
    _boxes = "".join(
        f"<span style='border:1px solid #888;border-radius:3px;padding:1px 3px;"
        f"margin:1px;white-space:pre;font-family:monospace'>{html.escape(p)}</span>"
        for p in pieces_k)
    _last = (f"The last merge applied fused {merges[k - 1][0].decode()!r} and "
             f"{merges[k - 1][1].decode()!r}." if k else "No merge yet: one token per byte.")
    mo.md(f"""
    {_boxes}

    After {k} merges: **{len(ids_k)} tokens** for {len(sentence)} characters,
    {len(sentence) / len(ids_k):.2f} characters per token. {_last}
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## On real text: characters per token as the vocabulary grows

    The same algorithm on a slice of the training plays (the learned merges
    come out in order, so the tokenizer with the first $k$ merges is exactly
    the one trained to a vocabulary of $256 + k$). Each tokenizer then cuts
    a slice of the validation plays, and two small models are fitted on the
    training slice's tokens: a unigram model (each token's frequency, with
    add-one smoothing) and a bigram model (Kneser-Ney). For each we get the
    loss per token, and from it bits per character.
    """)
    return


@app.cell
def _(NGramLM, PreTokenizer, Tokenizer, count_pretokens, learn_merges, load_corpus, np,
      vocab_from_merges):
    _corpus = load_corpus()
    train_text, val_text = _corpus.train[:60_000], _corpus.val[:20_000]
    _pre = PreTokenizer()
    _counts = count_pretokens([train_text], _pre)
    corpus_merges = learn_merges({p.encode("utf-8"): n for p, n in _counts.items()}, 600)
    ks = [0, 25, 50, 100, 200, 400, 600]
    sweep = []
    for _k in ks:
        _tok = Tokenizer(vocab_from_merges(corpus_merges[:_k]), corpus_merges[:_k])
        _train_ids, _val_ids = _tok.encode(train_text), _tok.encode(val_text)
        _row = {"vocab": 256 + _k, "chars_per_token": len(val_text) / len(_val_ids),
                "val_tokens": len(_val_ids)}
        for _name, _lm in (("unigram", NGramLM(1, smoothing="laplace")),
                           ("bigram", NGramLM(2))):
            _bits = _lm.fit(_train_ids).cross_entropy(_val_ids, base=2)   # bits per token
            _row[_name] = {"bits_per_token": _bits, "perplexity": 2.0 ** _bits,
                           "bits_per_char": _bits * len(_val_ids) / len(val_text)}
        sweep.append(_row)
    vocab_sizes = np.array([r["vocab"] for r in sweep])
    return corpus_merges, sweep, train_text, val_text, vocab_sizes


@app.cell(hide_code=True)
def _(kit, mo, np, sweep, vocab_sizes):
    _fig, (_a, _b) = kit.figure(1, 2, size=(9.0, 3.2), margins={"wspace": 0.7})
    _a.plot(vocab_sizes, [r["chars_per_token"] for r in sweep], "o-", color="tab:blue")
    _a.set_xlabel("vocabulary size V")
    _a.set_ylabel("characters per token")
    _a.set_title("longer tokens")
    for _name, _color in (("unigram", "tab:red"), ("bigram", "tab:green")):
        _b.plot(vocab_sizes, [r[_name]["bits_per_char"] for r in sweep], "o-", color=_color,
                label=_name)
    _b.set_xlabel("vocabulary size V")
    _b.set_ylabel("bits per character")
    _b.set_title("on the validation slice")
    _b.legend(loc="upper right", fontsize=7)
    _table = np.array([[r["chars_per_token"], r["unigram"]["perplexity"],
                        r["unigram"]["bits_per_char"], r["bigram"]["perplexity"],
                        r["bigram"]["bits_per_char"]] for r in sweep])
    mo.vstack([
        kit.show(_fig, alt="characters per token and bits per character against the "
                           "vocabulary size"),
        mo.md(kit.matrix_table(_table, [f"V = {v}" for v in vocab_sizes],
                               ["chars/token", "unigram: perplexity/token",
                                "unigram: bits/char", "bigram: perplexity/token",
                                "bigram: bits/char"], digits=2)),
    ])
    return


@app.cell(hide_code=True)
def _(kit, mo, sweep):
    _lo, _hi = sweep[0], sweep[-1]
    _bpc = [r["bigram"]["bits_per_char"] for r in sweep]
    _best = min(range(len(sweep)), key=lambda i: _bpc[i])
    _bigram = (f"The bigram model does best at V = {sweep[_best]['vocab']} "
               f"({kit.fmt(_bpc[_best], 3)} bits per character) and loses beyond it "
               f"({kit.fmt(_bpc[-1], 3)} at V = {_hi['vocab']}): with one small training "
               "slice, pairs of long tokens become too rare to count well."
               if _best < len(sweep) - 1 else
               f"The bigram model improves too, from {kit.fmt(_bpc[0], 3)} to "
               f"{kit.fmt(_bpc[-1], 3)} bits per character.")
    mo.md(f"""
    Going from {_lo["vocab"]} to {_hi["vocab"]} symbols, a token spells
    {kit.fmt(_lo["chars_per_token"], 2)} then {kit.fmt(_hi["chars_per_token"], 2)}
    characters on average. The unigram model's perplexity per token rises from
    {kit.fmt(_lo["unigram"]["perplexity"], 1)} to {kit.fmt(_hi["unigram"]["perplexity"], 1)},
    which looks like a much worse model, while its bits per character fall from
    {kit.fmt(_lo["unigram"]["bits_per_char"], 3)} to
    {kit.fmt(_hi["unigram"]["bits_per_char"], 3)}: it is a better compressor of the same
    text. The vocabulary itself has absorbed structure (common words, endings) that a
    model of single letters would have to learn. {_bigram}

    ## Why this matters when comparing models

    Perplexity per token is only comparable between models that share a
    tokenizer. To compare a character model with a BPE model, or GPT-2's
    vocabulary with Llama's, convert to bits per character (or per byte)
    over the same text. `llmmath train` reports both for every evaluation,
    and `llmmath eval` does the same on a whole split.
    """)
    return


@app.cell(hide_code=True)
def _(kit, math, sweep):
    _r, _loss = sweep[-1], 3.0
    kit.check_yourself(
        f"A model reports a loss of {_loss:g} nats per token with the V = {_r['vocab']} "
        "tokenizer. How many bits per character is that on this validation slice?",
        f"{_loss:g} / ln 2 × tokens/chars = {_loss:g} / {kit.fmt(math.log(2), 4)} / "
        f"{kit.fmt(_r['chars_per_token'], 3)} ≈ "
        f"{kit.fmt(_loss / math.log(2) / _r['chars_per_token'], 3)} bits per character.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.check_yourself(
        "BPE is greedy: each step takes the most frequent pair. Why not search for the "
        "vocabulary that compresses best?",
        "That search is combinatorial; the greedy rule is fast (with counts updated "
        "incrementally, each merge touches only the words holding that pair) and good "
        "enough. Tokenizers are built once and used for the whole life of a model.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.check_yourself(
        "Why does GPT-2 cut the text into pieces before merging?",
        "So that merges never cross a word boundary or join letters with punctuation: "
        "without it BPE would spend vocabulary on tokens like 'dog.' and 'dog!', one per "
        "punctuation mark.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - BPE starts from bytes and repeatedly fuses the most frequent
      neighbouring pair: a greedy compressor that doubles as a vocabulary.
    - A bigger vocabulary means more characters per token and shorter
      sequences.
    - Loss and perplexity per token depend on the tokenizer; bits per
      character, $\frac{H_{\text{token}}}{\ln 2}\cdot\frac{N_{\text{tokens}}}
      {N_{\text{chars}}}$, do not.
    - Compare models with different tokenizers only on a per-character (or
      per-byte) scale, over the same text.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("tokenization")
    return


@app.cell
def test_first_merge_by_hand(Counter, counts, merges):
    _pairs = Counter()
    for _piece, _n in counts.items():
        _b = [bytes([x]) for x in _piece.encode("utf-8")]
        for _i in range(len(_b) - 1):
            _pairs[(_b[_i], _b[_i + 1])] += _n
    _best = max(_pairs.values())
    _tied = [p for p, c in _pairs.items() if c == _best]
    assert merges[0] == max(_tied)                 # ties: the greater pair of byte strings
    return


@app.cell
def test_segmentation_by_hand(ids_k, k, merges, pieces, pieces_k, sentence):
    # apply the first k merges to each piece with explicit loops; compare the token count
    _total = []
    for _piece in pieces:
        _syms = [bytes([x]) for x in _piece.encode("utf-8")]
        for _a, _b in merges[:k]:
            _out, _i = [], 0
            while _i < len(_syms):
                if _i + 1 < len(_syms) and _syms[_i] == _a and _syms[_i + 1] == _b:
                    _out.append(_a + _b)
                    _i += 2
                else:
                    _out.append(_syms[_i])
                    _i += 1
            _syms = _out
        _total.extend(s.decode("utf-8") for s in _syms)
    assert _total == pieces_k and len(ids_k) == len(_total)
    assert "".join(pieces_k) == sentence
    return


@app.cell
def test_chars_per_token_and_bits_per_char(math, sweep, val_text):
    for _r in sweep:
        assert abs(_r["chars_per_token"] - len(val_text) / _r["val_tokens"]) < 1e-12
        for _name in ("unigram", "bigram"):
            _m = _r[_name]
            assert abs(_m["bits_per_char"]
                       - _m["bits_per_token"] * _r["val_tokens"] / len(val_text)) < 1e-12
            assert abs(math.log2(_m["perplexity"]) - _m["bits_per_token"]) < 1e-9
    assert sweep[0]["chars_per_token"] == 1.0      # no merges, ASCII text: one byte each
    return


@app.cell
def test_unigram_by_hand(Counter, Tokenizer, corpus_merges, math, sweep, train_text,
                         val_text, vocab_from_merges):
    # add-one unigram written out: p(t) = (count(t) + 1) / (N + V), V = seen types + unknown
    _k = 100
    _tok = Tokenizer(vocab_from_merges(corpus_merges[:_k]), corpus_merges[:_k])
    _counts = Counter(_tok.encode(train_text))
    _n, _v = sum(_counts.values()), len(_counts) + 1
    _val = _tok.encode(val_text)
    _bits = -sum(math.log2((_counts.get(t, 0) + 1) / (_n + _v)) for t in _val) / len(_val)
    _row = next(r for r in sweep if r["vocab"] == 256 + _k)
    assert abs(_row["unigram"]["bits_per_token"] - _bits) < 1e-9
    return


@app.cell
def test_tokens_decode_to_the_text(Tokenizer, corpus_merges, val_text, vocab_from_merges):
    _tok = Tokenizer(vocab_from_merges(corpus_merges), corpus_merges)
    _ids = _tok.encode(val_text[:5000])
    assert _tok.decode(_ids) == val_text[:5000]
    assert len(set(_ids)) <= 256 + len(corpus_merges)
    return


if __name__ == "__main__":
    app.run()
