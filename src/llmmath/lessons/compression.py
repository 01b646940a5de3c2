import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Language modelling is compression")


@app.cell
def _():
    import contextlib
    import html
    import math
    import time
    from fractions import Fraction
    from pathlib import Path

    import marimo as mo
    import numpy as np

    from llmmath.compress import (
        CorruptDataError,
        ModelMismatchError,
        compress,
        decompress,
        encode,
    )
    from llmmath.compress import arithmetic
    from llmmath.compress.arithmetic import Decoder, Encoder, narrow
    from llmmath.compress.container import unpack
    from llmmath.compress.frequencies import PRECISION, quantize
    from llmmath.compress.models import NGramModel, UniformModel
    from llmmath.compress.report import classical_sizes
    from llmmath.data import load_corpus
    from llmmath.lessons import _kit as kit

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:        # not installed: BLAS keeps its threads, and the page still works
        threadpool_limits = None

    def one_thread():
        """One BLAS thread while a small GPT computes: its matrices are too small to share
        out, and on a busy machine a waiting second thread slows every product down."""
        if threadpool_limits is None:
            return contextlib.nullcontext()
        return threadpool_limits(limits=1, user_api="blas")

    return (
        CorruptDataError,
        Decoder,
        Encoder,
        Fraction,
        ModelMismatchError,
        NGramModel,
        PRECISION,
        Path,
        UniformModel,
        arithmetic,
        classical_sizes,
        compress,
        decompress,
        encode,
        html,
        kit,
        load_corpus,
        math,
        mo,
        narrow,
        np,
        one_thread,
        quantize,
        time,
        unpack,
    )


@app.cell(hide_code=True)
def _(kit):
    kit.header("compression")
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.md(f"""
    ## Why this matters

    A language model is trained to lower its cross-entropy, and the
    [information lesson]({kit.lesson_href("information")}) read that number as average
    surprise in bits. It is more than a metaphor. Given a model, an
    **arithmetic coder** stores a text in almost exactly
    $\\sum_t -\\log_2 q(x_t \\mid x_{{<t}})$ bits, and gives it back character for
    character. A model that predicts better writes a smaller file; a model
    that writes a smaller file predicts better. Prediction and compression are
    one problem, which is why the strongest text compressors are built
    around models that predict the next symbol, and why "bits per character"
    is both a loss and a file size.

    This lesson builds the file. It draws how a coder turns probabilities
    into bits, measures the bytes that models from uniform to a GPT write on a
    passage of a play none of them has seen, and shows the one condition the
    method cannot do without: the decoder must compute *exactly* the
    probabilities the encoder used.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"w_n = \prod_{t=1}^{n} q(x_t \mid x_{<t}), \qquad "
        r"-\log_2 w_n \;\le\; \text{bits written} \;\le\; -\log_2 w_n + 2",
        caption=(
            r"The message is a point in $[0, 1)$. Each character $x_t$ narrows the current "
            r"interval to the slice its probability owns, so after $n$ characters the width "
            r"$w_n$ is the product of the probabilities. About $-\log_2 w_n$ bits pick a point "
            r"inside it. $q$ is the model's distribution $p$ rounded to integer frequencies "
            r"out of $2^{24}$, the form a coder can cut exactly; $-\frac{1}{n}\log_2 w_n$ is "
            r"then the model's cross-entropy on this text, in bits per character."
        ),
    )
    return


@app.cell
def _(NGramModel, UniformModel, load_corpus, mo):
    corpus = load_corpus()
    train_chars = 300_000                         # a slice of the training plays: quick fits
    train = corpus.train[:train_chars]
    models = {
        "uniform": UniformModel("".join(sorted(set(train)))),   # every character alike
        "bigram": NGramModel.fit(train, order=2),              # Kneser-Ney, 1 character back
        "5-gram": NGramModel.fit(train, order=5),              # 4 characters back
    }
    coder_model = models["5-gram"]                # the one the coder is shown working with
    mo.show_code()
    return coder_model, corpus, models, train, train_chars


@app.cell(hide_code=True)
def _(corpus, kit, mo, models, train_chars):
    _sizes = corpus.split_sizes()
    _lesson = kit.lesson_href("ngrams")
    mo.md(f"""
    Three models that read characters, fitted on the first {train_chars:,} of the
    {_sizes["train"]:,} characters of the training plays (Kneser–Ney smoothing, as in
    [the n-gram lesson]({_lesson})). Each predicts the next character among the
    {len(models["uniform"].alphabet)} it knows, plus one **escape** symbol for anything
    else (an unknown character is coded as the escape followed by its code point), so
    $V = {models["uniform"].n_symbols}$. Every model answers the same question, one step
    at a time: given the text so far, the distribution of the next symbol.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## One interval per message

    Take a short phrase and the 5-gram model. Before each character the
    model gives a distribution; `quantize` turns it into integer frequencies
    that sum to $2^{24}$ (every symbol gets at least 1, so nothing is
    impossible). The teaching coder (`llmmath.compress.arithmetic.Encoder`,
    integers only) keeps the current interval in a 32-bit register and cuts
    it in proportion to the frequencies; the character's slice becomes the
    new interval. Whenever the interval lies in one half of the register, the
    leading bit of every point in it is settled: the coder writes that bit
    and doubles the interval. So bits come out as the interval shrinks.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    phrase = mo.ui.dropdown(options=["to be, or not to be", "the king is come",
                                     "zqx jvk wq"],
                            value="to be, or not to be", label="phrase to code")
    return (phrase,)


@app.cell(hide_code=True)
def _(mo, phrase):
    mo.hstack([phrase, mo.md("A line a play might contain, another, and letters in an "
                             "order English never uses.")], justify="start", gap=2)
    return


@app.cell
def _(Encoder, coder_model, kit, mo, narrow, phrase, quantize):
    short = kit.value(phrase)
    _state = coder_model.start(1)               # a fresh context: the text starts here
    _enc = Encoder(trace=[])                    # records (low, high, bits) at every symbol
    short_symbols, short_tables, register_before, bits_after = [], [], [], []
    for _c in short:
        _freqs = quantize(coder_model.probs(_state)[0])    # V integers, sum 2**24
        _x = coder_model.alphabet.index(_c)
        register_before.append((_enc.low, _enc.high))      # the interval before this symbol
        _enc.encode(_x, _freqs)                            # narrow it, write settled bits
        bits_after.append(len(_enc.bits) + _enc.pending)
        short_symbols.append(_x)
        short_tables.append(_freqs)
        coder_model.update(_state, [_c])                   # the model reads the character
    short_trace = list(_enc.trace)              # (low, high, bits) after each narrowing
    short_code = _enc.finish()
    short_code_bits = len(_enc.bits)            # before packing into bytes
    exact = narrow(short_symbols, short_tables)             # the same cuts, as exact fractions
    mo.show_code()
    return (bits_after, exact, register_before, short, short_code,
            short_code_bits, short_symbols, short_tables, short_trace)


@app.cell(hide_code=True)
def _(PRECISION, arithmetic, bits_after, exact, kit, math, mo, np, register_before, short,
      short_code, short_code_bits, short_symbols, short_tables, short_trace):
    _full = 2 ** arithmetic.BITS
    _n = len(short)
    _total = 2 ** PRECISION
    _q = np.array([_f[_x] / _total for _f, _x in zip(short_tables, short_symbols, strict=True)])
    _info = [math.log2(_w.denominator) - math.log2(_w.numerator) for _lo, _w in exact]
    _fig, (_a, _b) = kit.figure(1, 2, size=(9.4, 0.3 * _n + 1.3), width_ratios=[1.7, 1],
                                margins={"left": 0.5, "wspace": 0.75})
    _rows = np.arange(_n)
    _before = np.array(register_before, dtype=np.float64)            # (n, 2): low, high
    _after = np.array([_tr[:2] for _tr in short_trace], dtype=np.float64)
    _a.barh(_rows, 1.0, color="0.93", height=0.72)
    _a.barh(_rows, (_before[:, 1] - _before[:, 0] + 1) / _full, left=_before[:, 0] / _full,
            color="0.7", height=0.72)
    _a.barh(_rows, (_after[:, 1] - _after[:, 0] + 1) / _full, left=_after[:, 0] / _full,
            color="#de2d26", height=0.72)
    # every symbol's slice boundary inside the interval before it, as white ticks
    _cum = np.cumsum(np.array(short_tables), axis=1)[:, :-1] / _total        # (n, V - 1)
    _xs = (_before[:, :1] + (_before[:, 1:] - _before[:, :1] + 1) * _cum) / _full
    _ys = np.repeat(_rows, _cum.shape[1])
    _a.vlines(_xs.ravel(), _ys - 0.36, _ys + 0.36, color="white", lw=0.35)
    # a mark that stays visible when the chosen slice is a sliver
    _a.plot((_after[:, 0] + _after[:, 1]) / 2 / _full, _rows, "|", color="#a50f15", ms=10,
            mew=1.5, ls="none")
    _a.set_yticks(range(_n), labels=["␣" if _c == " " else _c for _c in short])
    _a.set_ylim(_n - 0.5, -0.5)
    _a.set_xlim(0, 1)
    _a.set_xlabel("position in the coder's 32-bit register")
    _a.set_title("each symbol narrows the interval")
    _b.step(range(1, _n + 1), _info, where="post", color="#08519c",
            label=r"$-\log_2$ width (exact)")
    _b.step(range(1, _n + 1), bits_after, where="post", color="#de2d26", ls="--",
            label="bits written so far")
    _b.plot([_n], [short_code_bits], "o", color="#de2d26", label="after finishing")
    _b.set_xlabel("symbols coded")
    _b.set_ylabel("bits")
    _b.set_title("information and output")
    _b.legend(loc="upper left", fontsize=8, frameon=False)
    _table = kit.matrix_table(
        [[kit.fmt(_v, 3) for _v in _q], [kit.fmt(_v, 2) for _v in -np.log2(_q)],
         [str(_b1 - _b0) for _b0, _b1 in zip([0, *bits_after[:-1]], bits_after, strict=True)]],
        ["q(x | before)", "−log₂ q", "bits out"],
        ["␣" if _c == " " else _c for _c in short], digits=3, corner="symbol")
    mo.vstack([
        kit.show(_fig, alt="one register bar per symbol with the interval before it in grey "
                           "and the chosen slice in red; on the right the information so far "
                           "and the bits written"),
        mo.md(f"""
        Grey: the interval before the symbol; red: the slice the symbol owns, a fraction
        $q$ of the grey; white ticks: the boundaries between the slices of all
        {len(short_tables[0])} symbols. The next row's grey interval is the red one after
        doubling (each doubling writes one bit).

        {_table}

        The final interval has width $w = \\prod_t q_t = 2^{{-{kit.fmt(_info[-1], 2)}}}$.
        Naming a point inside it takes between {kit.fmt(_info[-1], 2)} and
        {kit.fmt(_info[-1] + 2, 2)} bits; the coder wrote **{short_code_bits} bits**
        ({len(short_code)} bytes once packed, trailing zero bytes dropped) for
        {_n} characters: {kit.fmt(short_code_bits / _n, 2)} bits per character, against
        $\\log_2 {len(short_tables[0])} = {kit.fmt(math.log2(len(short_tables[0])), 2)}$
        for a uniform guess.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The model decides the size

    Now a real passage: a scene from *King Richard II*, one of the four
    test plays, which no model here has read. Each model drives the
    production coder (`constriction`'s range coder, fed the same integer
    frequencies) through `encode`, which writes a self-describing file: a
    header naming the model and its fingerprint, the coded bits, checksums.
    `encode` also adds up $-\log_2 p$ of every coded symbol under the model's
    own probabilities: the **cross-entropy** the coder aims at. The classical
    compressors get the same UTF-8 bytes.
    """)
    return


@app.cell
def _(classical_sizes, corpus, encode, mo, models):
    play = "richard_ii"                                     # a test play
    _text = corpus.documents[play]
    _start = _text.index("\n\n", len(_text) // 3) + 2       # a speech a third of the way in
    passage = _text[_start:_start + 3000]
    passage = passage[:passage.rindex("\n") + 1]            # whole lines only
    encoded = {name: encode(passage, m) for name, m in models.items()}
    classical = classical_sizes(passage.encode("utf-8"))    # gzip -9, bz2 -9, xz -9e
    mo.show_code()
    return classical, encoded, passage, play


@app.cell(hide_code=True)
def _(html, mo, passage):
    _lines = passage.split("\n")
    mo.md(f"""
    The passage has {len(passage):,} characters in {len(_lines) - 1} lines. It begins:
    <pre style="font-size:0.85em">{html.escape(chr(10).join(_lines[:6]))}</pre>
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    model_choice = mo.ui.dropdown(options=["uniform", "bigram", "5-gram", "GPT"],
                                  value="5-gram", label="model")
    return (model_choice,)


@app.cell(hide_code=True)
def _(Path):
    from llmmath.train import CHECKPOINT_NAME as _CKPT
    from llmmath.train import PRESETS as _PRESETS
    from llmmath.train import TrainConfig as _TrainConfig

    # where `llmmath train --preset NAME` writes its checkpoint, the most capable first
    gpt_dirs = list(dict.fromkeys([_PRESETS["small"]["out_dir"], _PRESETS["baby"]["out_dir"],
                                   _TrainConfig().out_dir]))
    gpt_found = [_d for _d in gpt_dirs if (Path(_d) / _CKPT).is_file()]
    return gpt_dirs, gpt_found


@app.cell(hide_code=True)
def _(gpt_found, mo):
    gpt_button = mo.ui.run_button(label=(f"Compress with the GPT in {gpt_found[0]}" if gpt_found
                                         else "Train a tiny GPT here and compress with it"),
                                  kind="success")
    return (gpt_button,)


@app.cell(hide_code=True)
def _(gpt_button, gpt_dirs, gpt_found, mo):
    _where = ", ".join(f"`{_d}`" for _d in gpt_dirs)
    _how = (f"A checkpoint was found in `{gpt_found[0]}` (the folder the course was started "
            "from). Coding with it runs one forward pass per character, so a large model "
            "takes a while; the bar shows how long." if gpt_found else
            f"No GPT checkpoint was found in the folder the course was started from (looked "
            f"for {_where}). The button trains the `tiny` preset for its few hundred steps in "
            "this page, then codes the passage with it. A better model comes from "
            "`llmmath train --preset baby` (it writes `out-baby`); start the course again "
            "from the same folder and this button uses it.")
    mo.vstack([gpt_button, mo.md(_how)])
    return


@app.cell(hide_code=True)
def gpt_coding(encode, gpt_button, gpt_found, kit, mo, one_thread, passage, time):
    gpt_chunk = 500          # characters per chunk: the chunks advance together, one batch
    gpt_encoded, gpt_note = None, ""
    if kit.value(gpt_button):
        from llmmath.compress.gpt import GPTModel as _GPTModel

        _t0 = time.perf_counter()
        _gpt = None
        if gpt_found:
            try:
                _gpt = _GPTModel.from_checkpoint(gpt_found[0])
                gpt_note = f"the checkpoint in `{gpt_found[0]}`"
            except (ValueError, OSError) as _exc:       # a BPE model, an unreadable file
                gpt_note = f"`{gpt_found[0]}` could not be used ({_exc}); instead, "
        if _gpt is None:
            from llmmath.train import Trainer as _Trainer
            from llmmath.train import prepare_data as _prepare_data
            from llmmath.train import preset_config as _preset_config

            _config = _preset_config("tiny")
            _data = _prepare_data(_config)
            _trainer = _Trainer(_config, _data)
            with one_thread(), mo.status.progress_bar(total=_config.max_iters,
                                                      title="Training a tiny GPT",
                                                      show_eta=True) as _bar:
                for _ in range(_config.max_iters):
                    _trainer.train_step()
                    _bar.update()
            _gpt = _GPTModel(_trainer.model, _data.tokenizer, spec="tiny GPT (this page)",
                            identity={"kind": "gpt", "preset": "tiny", "seed": _config.seed,
                                      "steps": _trainer.step})
            _seen = _config.max_iters * _config.batch_size * _config.block_size
            gpt_note += (f"a tiny GPT ({_trainer.model.num_params(non_embedding=False):,} "
                         f"parameters) trained here for {_trainer.step} steps, "
                         f"{_seen:,} characters of the training plays")
        with one_thread(), mo.status.progress_bar(total=len(passage), title="Coding",
                                                  show_eta=True) as _bar:
            _done = [0]

            def _progress(k):
                _bar.update(increment=k - _done[0])
                _done[0] = k

            gpt_encoded = encode(passage, _gpt, chunk_size=gpt_chunk, progress=_progress)
        gpt_note += (f", in {kit.fmt(time.perf_counter() - _t0, 1)} s; the passage is coded "
                     f"in {gpt_encoded.n_chunks} chunks of at most {gpt_chunk} characters "
                     "(each starts with no context)")
    return gpt_encoded, gpt_note


@app.cell(hide_code=True)
def _(classical, encoded, gpt_encoded, passage):
    # One row per compressor: whole-file bytes; for models also the coded bits and the
    # cross-entropy they aim at
    _n = len(passage)
    _models = dict(encoded)
    if gpt_encoded is not None:
        _models["GPT"] = gpt_encoded
    results = {}
    for _name, _e in _models.items():
        results[_name] = {"file_bytes": len(_e.data), "payload_bits": 8 * _e.payload_bytes,
                          "ce_bits": _e.model_bits, "header": len(_e.data) - _e.payload_bytes,
                          "bpc": 8 * len(_e.data) / _n, "ce_bpc": _e.model_bits / _n}
    for _name, (_size, _s) in classical.items():
        results[_name] = {"file_bytes": _size, "payload_bits": None, "ce_bits": None,
                          "header": None, "bpc": 8 * _size / _n, "ce_bpc": None}
    return (results,)


@app.cell(hide_code=True)
def _(mo, model_choice):
    mo.hstack([model_choice, mo.md("uniform → bigram → 5-gram → GPT: each knows more "
                                   "about what comes next.")], justify="start", gap=2)
    return


@app.cell(hide_code=True)
def _(gpt_note, kit, mo, model_choice, passage, results, train_chars):
    chosen = kit.value(model_choice)
    _n = len(passage)
    _best_classical = min(("gzip -9", "bz2 -9", "xz -9e"), key=lambda k: results[k]["bpc"])
    _fig, _ax = kit.figure(size=(7.5, 3.3), margins={"left": 0.9, "right": 0.9})
    _names = list(results)
    for _i, _name in enumerate(_names):
        _r = results[_name]
        _color = ("#de2d26" if _name == chosen else
                  "#9ecae1" if _r["ce_bits"] is not None else "0.75")
        if _r["ce_bits"] is None:
            _ax.barh(_i, _r["bpc"], color=_color, height=0.6)
        else:      # the coded bits, then the header and checksums (hatched)
            _coded = _r["payload_bits"] / _n
            _ax.barh(_i, _coded, color=_color, height=0.6)
            _ax.barh(_i, _r["bpc"] - _coded, left=_coded, color=_color, alpha=0.45,
                     hatch="///", edgecolor="white", height=0.6,
                     label="header and checksums" if _i == 0 else None)
            _ax.plot([_r["ce_bpc"]], [_i], "|", color="black", ms=14, mew=1.5,
                     label="cross-entropy" if _i == 0 else None)
        _ax.text(_r["bpc"] + 0.05, _i, kit.fmt(_r["bpc"], 2), va="center", fontsize=8)
    _ax.set_yticks(range(len(_names)), labels=_names)
    _ax.set_ylim(len(_names) - 0.5, -0.5)
    _ax.set_xlabel("bits per character (whole file)")
    _ax.set_title("the same passage, written by each compressor")
    _ax.set_xlim(0, max(_r["bpc"] for _r in results.values()) * 1.15)
    _ax.legend(loc="lower right", fontsize=8, frameon=False)
    _rows = []
    for _name in _names:
        _r = results[_name]
        if _r["ce_bits"] is None:
            _rows.append([f"{_r['file_bytes']:,}", "–", "–", "–", "–", kit.fmt(_r["bpc"], 3)])
        else:
            _over = _r["payload_bits"] - _r["ce_bits"]
            _rows.append([f"{_r['file_bytes']:,}", f"{_r['header']}",
                          kit.fmt(_r["ce_bits"], 1), f"{_r['payload_bits']:,}",
                          f"{kit.fmt(_over, 1)} ({kit.pct(_over / _r['ce_bits'], 2)})",
                          kit.fmt(_r["bpc"], 3)])
    _table = kit.matrix_table(_rows, _names,
                              ["file bytes", "header + checks", "cross-entropy (bits)",
                               "coded bits", "overhead (bits, %)", "bits/char"],
                              corner="compressor")
    if chosen in results:
        _r = results[chosen]
        _over = _r["payload_bits"] - _r["ce_bits"]
        _versus = results[_best_classical]["file_bytes"]
        _line = mo.md(f"""
        **{chosen}**: cross-entropy {kit.fmt(_r["ce_bpc"], 3)} bits per character, so
        {kit.fmt(_r["ce_bits"], 1)} bits for the {_n:,} characters; the coder wrote
        {_r["payload_bits"]:,} bits, {kit.fmt(_over, 1)} more
        ({kit.pct(_over / _r["ce_bits"], 2)}). With the {_r["header"]}-byte header and checksums
        the file has {_r["file_bytes"]:,} bytes, {"fewer" if _r["file_bytes"] < _versus
        else "more"} than the best classical compressor here ({_best_classical},
        {_versus:,} bytes). On the chart the black tick is the cross-entropy, and the
        hatched end of a bar the header. The classical compressors learn only from the
        passage itself, a few thousand characters; the n-gram models arrive having
        read {train_chars:,} characters of other plays.
        """ + (f" The GPT is {gpt_note}." if chosen == "GPT" else ""))
    else:
        _line = mo.callout(mo.md("No GPT has been coded yet: press the button above."),
                           kind="neutral")
    mo.vstack([_line, kit.show(_fig, alt="bits per character of each model and classical "
                                         "compressor, the chosen one in red"),
               mo.md(_table)])
    return (chosen,)


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([
        mo.md(r"""
        The bits a model writes per character are its cross-entropy, and
        $2^{\text{bits per character}}$ is its perplexity per character: the same
        number on two scales.
        """),
        kit.claim_badge("001-perplexity-base-two"),
    ])
    return


@app.cell
def _(math, models, np, passage):
    # What each character costs under each n-gram model (-log2 p, from the model's own
    # batched scoring), and under the uniform model
    char_bits = {name: m.lm.nll(passage) / math.log(2) for name, m in models.items()
                 if name != "uniform"}
    char_bits["uniform"] = np.full(len(passage), math.log2(models["uniform"].n_symbols))
    return (char_bits,)


@app.cell(hide_code=True)
def _(char_bits, chosen, html, kit, mo, passage):
    if chosen in char_bits:
        _shown = 700
        _bits = char_bits[chosen][:_shown]
        _spans = []
        for _c, _b in zip(passage[:_shown], _bits, strict=True):
            _alpha = min(float(_b) / 8.0, 1.0) * 0.85
            _glyph = "↵<br>" if _c == "\n" else html.escape(_c)
            _spans.append(f"<span title='{kit.fmt(_b, 2)} bits' style='background:"
                          f"rgba(222,45,38,{_alpha:.2f})'>{_glyph}</span>")
        _cheap = float((char_bits[chosen] < 1.0).mean())
        _out = mo.vstack([
            mo.md(f"""
            ### Where the bits go ({chosen})

            Each character shaded by what it costs, $-\\log_2 p$ (white: almost nothing,
            red: 8 bits or more; hover for the number). Under this model
            {kit.pct(_cheap)} of the passage's characters cost less than one bit.
            """),
            mo.Html(f"<div style='font-family:monospace;font-size:0.82em;line-height:1.5'>"
                    f"{''.join(_spans)}</div>"),
        ])
    else:
        _out = mo.md("*(The per-character costs are drawn for the uniform and n-gram "
                     "models.)*")
    _out
    return


@app.cell(hide_code=True)
def _(kit, mo, np):
    mo.md(f"""
    ## Both sides must compute the same numbers

    The decoder has only the bits. It runs the model on the text decoded so
    far, turns the distribution into frequencies, cuts the interval exactly
    as the encoder did and sees in which slice the code falls. That works
    only if each table of frequencies is **identical**, integer for integer,
    to the encoder's. A difference of one count out of $2^{{24}}$ moves an
    interval boundary; the register doubles that error with every bit, and a
    few characters later the decoder is somewhere else.

    This is not a theoretical worry. A GPT run twice on the same text, once
    as one batched pass and once position by position, or on two machines
    with different BLAS libraries, can give probabilities that differ in
    their last bits. Below, the encoder codes a speech with the 5-gram model in
    float64; the decoder runs the very same model, but rounds its
    probabilities to float32 before quantising (a relative change of at most
    ${kit.sci(np.finfo(np.float32).eps / 2)}$).
    """)
    return


@app.cell
def _(Decoder, Encoder, coder_model, mo, np, passage, quantize):
    sentence = passage[:passage.index("\n\n", 150)]          # the first two speeches
    _enc, _state = Encoder(), coder_model.start(1)
    for _c in sentence:
        _enc.encode(coder_model.alphabet.index(_c), quantize(coder_model.probs(_state)[0]))
        coder_model.update(_state, [_c])
    sentence_code = _enc.finish()

    def decode_with(rounding):
        """Decode ``sentence_code`` with the model's probabilities passed through ``rounding``."""
        dec, state, out, tables = Decoder(sentence_code), coder_model.start(1), [], []
        for _ in range(len(sentence)):
            freqs = quantize(rounding(coder_model.probs(state)[0]))
            x = dec.decode(freqs)
            # the escape would be followed by a code point; here it stands for "unknown"
            c = coder_model.alphabet[x] if x < len(coder_model.alphabet) else "\ufffd"
            out.append(c)
            tables.append(freqs)
            coder_model.update(state, [c])
        return "".join(out), tables

    decoded_same, tables_same = decode_with(lambda p: p)
    decoded_rounded, tables_rounded = decode_with(lambda p: p.astype(np.float32))
    mo.show_code()
    return decoded_rounded, decoded_same, sentence, sentence_code, tables_rounded, tables_same


@app.cell(hide_code=True)
def _(decoded_rounded, decoded_same, html, kit, mo, np, sentence, sentence_code,
      tables_rounded, tables_same):
    _n = len(sentence)
    _differ = [_t for _t in range(_n)
               if not np.array_equal(tables_same[_t], tables_rounded[_t])]
    _wrong = next((_t for _t in range(_n) if decoded_rounded[_t] != sentence[_t]), None)
    _first = _differ[0] if _differ else None

    def _pre(text, mark=None):
        good = html.escape(text if mark is None else text[:mark])
        bad = "" if mark is None else (f"<span style='background:#fcbba1'>"
                                       f"{html.escape(text[mark:])}</span>")
        return f"<pre style='font-size:0.82em;white-space:pre-wrap'>{good}{bad}</pre>"

    if _first is None:
        _story = "The float32 rounding changed none of the frequency tables this time."
    else:
        # the tables up to and including the first wrong character are those of the right
        # context (after it, the two decoders read different texts)
        _upto = _n if _wrong is None else _wrong + 1
        _early = [_t for _t in _differ if _t < _upto]
        _gap = max(int(np.abs(tables_same[_t] - tables_rounded[_t]).max()) for _t in _early)
        _story = (f"Of the first {_upto} frequency tables, while both decoders still read "
                  f"the same text, {len(_early)} differ, the first at character {_first + 1}, "
                  f"by at most {_gap:,} count{'s' if _gap > 1 else ''} out of "
                  f"{int(tables_same[0].sum()):,}. ")
        _story += ("The decoded text still came out right." if _wrong is None else
                   f"From character {_wrong + 1} on, the decoded text is wrong.")
    mo.vstack([
        mo.md(f"""
        The code is {len(sentence_code)} bytes for {_n} characters. Decoded with exactly
        the encoder's probabilities it gives back the text
        ({"identical" if decoded_same == sentence else "NOT identical"}):
        """),
        mo.Html(_pre(decoded_same)),
        mo.md(f"Decoded with the probabilities rounded to float32: {_story}"),
        mo.Html(_pre(decoded_rounded, _wrong)),
        mo.md("""
        Notice what the wrong part looks like: the decoder keeps turning bits into
        characters the model finds likely, so after losing its place it reads like text
        the model might have written. Bits that no longer match an interval are, to the
        decoder, random numbers, and an arithmetic decoder fed random numbers *samples*
        from its model.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ### What the real command does about it

    `llmmath compress` cannot make floating point agree across machines, but
    it makes disagreement impossible to miss. Its encoder and decoder run the
    same loop, step by step, in the same batches, so on one machine they see
    the same floats. The file records the SHA-256 of the model's identity,
    and the decoder refuses another model. And the file records the SHA-256
    of the original text: a decoder whose model *claims* to be the same but
    computes slightly different numbers produces a text that fails this
    check, and the command raises an error instead of returning it.

    Here the other model is the 5-gram refitted on the training slice
    without its last few characters.
    """)
    return


@app.cell
def _(CorruptDataError, ModelMismatchError, NGramModel, compress, corpus, decompress, mo,
      models, np, sentence, train_chars):
    _original = models["5-gram"]
    refitted = NGramModel.fit(corpus.train[:train_chars - 10], order=5)   # 10 characters fewer
    impostor = NGramModel(refitted.lm, identity=_original.identity)     # claims to be _original
    file_bytes = compress(sentence, _original)
    outcomes = {}
    for _name, _model in (("the same model", _original), ("the refitted model", refitted),
                          ("the refitted model, claiming the original's identity", impostor)):
        try:
            outcomes[_name] = ("decoded", decompress(file_bytes, _model) == sentence)
        except (ModelMismatchError, CorruptDataError) as _err:
            outcomes[_name] = (type(_err).__name__, str(_err))
    _s0, _s1 = _original.start(1), refitted.start(1)
    max_prob_change = 0.0
    for _c in sentence:
        max_prob_change = max(max_prob_change, float(np.abs(_original.probs(_s0)
                                                            - refitted.probs(_s1)).max()))
        _original.update(_s0, [_c])
        refitted.update(_s1, [_c])
    mo.show_code()
    return file_bytes, impostor, max_prob_change, outcomes, refitted


@app.cell(hide_code=True)
def _(html, kit, max_prob_change, mo, outcomes):
    _items = []
    for _name, (_kind, _what) in outcomes.items():
        if _kind == "decoded":
            _items.append(f"<li><b>{html.escape(_name)}</b>: decoded, "
                          f"{'the original text' if _what else 'a DIFFERENT text'}</li>")
        else:
            _items.append(f"<li><b>{html.escape(_name)}</b>: <code>{html.escape(_kind)}</code>"
                          f" — <small>{html.escape(_what)}</small></li>")
    mo.md(f"""
    Along the speech, the refitted model's probabilities differ from the original's by
    at most {kit.sci(max_prob_change)}. Decompressing the same file with each:

    <ul>{''.join(_items)}</ul>
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## On the command line

    The same machinery is a command. `llmmath compress play.txt -m ngram:5 -o play.lmz`
    writes the file (models: `uniform`, `ngram:N`, `ngram:N:adaptive`, a GPT
    checkpoint folder, or `mix:CKPT+ngram:N`), `llmmath decompress play.lmz -o back.txt`
    reads it back, and `llmmath compress --report FILE` prints, for several models,
    the bits per character written beside the cross-entropy and beside gzip, bz2 and xz.
    Without `-m` it uses an n-gram model that keeps learning from the text it codes,
    so that prose unlike the plays compresses well too.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    _bpc, _chars = 2.5, 20_000
    kit.check_yourself(
        f"A model has a cross-entropy of {_bpc} bits per character on a "
        f"{_chars:,}-character file. About how large is the compressed payload?",
        f"About {_bpc} × {_chars:,} = {kit.fmt(_bpc * _chars, 0)} bits, that is "
        f"{kit.fmt(_bpc * _chars / 8, 0)} bytes, plus a couple of bits for the end of the "
        f"code (and the file's header). The loss *is* the size.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.check_yourself(
        "The encoder knows the whole text. Why can't it score it in one fast batched "
        "pass, while the decoder goes character by character?",
        "Because the decoder must reproduce the encoder's frequency tables exactly, and "
        "it can only go character by character: it does not know the next character before "
        "decoding it. A batched pass and a step-by-step pass round differently, so a single "
        "count of difference would derail the decoding. Both sides therefore run the same "
        "step-by-step loop on the same shapes.",
    )
    return


@app.cell(hide_code=True)
def _(kit, models, passage, results):
    _m = models["5-gram"]
    _with = results["5-gram"]["file_bytes"] + _m.size_bytes
    _cmp = "smaller" if results["5-gram"]["file_bytes"] < results["bz2 -9"]["file_bytes"] \
        else "no smaller"
    kit.check_yourself(
        f"On this passage the 5-gram file ({results['5-gram']['file_bytes']:,} bytes) is "
        f"{_cmp} than bz2's ({results['bz2 -9']['file_bytes']:,}). Would that make the "
        f"5-gram model the better compressor?",
        f"Only if the reader already has the model. Stored naively (12 bytes per n-gram) "
        f"the 5-gram model takes {_m.size_bytes:,} bytes, so file and model together are "
        f"{_with:,} bytes for a {len(passage.encode('utf-8')):,}-byte passage. Benchmarks "
        f"such as the Hutter prize count the size of the decompressor too; a model pays "
        f"for itself only over texts much longer than itself.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - An arithmetic coder narrows an interval by $q(x_t \mid x_{<t})$ per
      character; the final width is $\prod_t q$, and $-\log_2$ of it, plus at
      most two bits, is the length of the code.
    - So a model's cross-entropy in bits per character is the size it can
      store text in; the coder adds a fixed few bits per file (at most two for
      the exact coder, a couple of 32-bit words for the range coder), whatever
      the length.
    - Better prediction, smaller files: every bit of cross-entropy saved per
      character is a bit saved per character on disk.
    - Encoder and decoder must compute identical integer frequencies: one
      count of difference derails the decoding, so both sides share one code
      path, and the file carries checksums that catch a mismatch.
    - A model that compresses only counts as a compressor with its own size
      included.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("compression")
    return


@app.cell
def test_interval_widths_multiply_to_product_of_q(Fraction, PRECISION, exact, short,
                                                    short_symbols, short_tables):
    # exact arithmetic: the narrowed widths are products of the chosen slices' fractions
    _width = Fraction(1)
    for _t, (_f, _x) in enumerate(zip(short_tables, short_symbols, strict=True)):
        _q = Fraction(int(_f[_x]), 2 ** PRECISION)
        assert exact[_t][1] == _width * _q           # the width shrinks by q(symbol)
        _width *= _q
        assert 0 <= exact[_t][0] and exact[_t][0] + exact[_t][1] <= 1
    assert len(exact) == len(short) and exact[-1][1] == _width
    return


@app.cell
def test_code_length_within_two_bits_of_information(exact, math, short_code_bits):
    _lo, _w = exact[-1]
    _info = math.log2(_w.denominator) - math.log2(_w.numerator)    # -log2 of the exact width
    # the bits name a dyadic interval inside the coder's interval, which the 32-bit rounding
    # makes narrower than the exact one by a relative 2**-24 or so per symbol at most
    assert _info - 1e-6 <= short_code_bits <= _info + 2 + 1e-3
    return


@app.cell
def test_page_loop_is_the_library_coder(
    Decoder,
    compress,
    models,
    short,
    short_code,
    short_symbols,
    short_tables,
    unpack,
):
    # the loop on the page writes exactly the chunk that compress(coder="arithmetic") stores
    _header, _chunks = unpack(compress(short, models["5-gram"], coder="arithmetic"))
    assert _header.n_chars == len(short) and _chunks == [short_code]
    _dec = Decoder(short_code)
    assert [_dec.decode(_f) for _f in short_tables] == short_symbols
    return


@app.cell
def test_round_trips_with_both_coders(compress, decompress, encoded, models, passage, phrase):
    for _name, _model in models.items():
        for _text in phrase.options.values():             # every phrase the page offers
            for _coder in ("range", "arithmetic"):
                assert decompress(compress(_text, _model, coder=_coder), _model) == _text
        assert decompress(encoded[_name].data, _model) == passage     # what the table shows
    _bigram = models["bigram"]
    assert decompress(compress(passage, _bigram, coder="arithmetic"), _bigram) == passage
    return


@app.cell
def test_written_size_near_direct_code_length(PRECISION, encoded, math, models, np, passage,
                                              quantize):
    for _name in ("bigram", "5-gram"):
        _m, _e = models[_name], encoded[_name]
        assert _e.n_escapes == 0                          # every character is in the alphabet
        _rows = _m.lm.next_token_distributions(passage)[:-1]     # row t predicts passage[t]
        _x = np.array([_m.alphabet.index(_c) for _c in passage])
        _f = quantize(_rows)[np.arange(len(passage)), _x]
        _direct = float(sum(-math.log2(int(_k) / 2 ** PRECISION) for _k in _f))
        assert abs(_e.ideal_bits - _direct) < 1e-6 * _direct
        # the range coder ends on whole 32-bit words of a 64-bit state (at most 64 bits
        # more) and drops trailing zero bytes (a few bits fewer)
        assert -32 <= 8 * _e.payload_bytes - _direct <= 64
        # the cross-entropy under the float probabilities: the model's own batched scoring
        _ce = float(sum(_m.lm.nll(passage))) / math.log(2)
        assert abs(_e.model_bits - _ce) < 1e-9 * _ce
    return


@app.cell
def test_uniform_size_is_n_log2_v(encoded, math, models, passage):
    _u, _e = models["uniform"], encoded["uniform"]
    _ideal = len(passage) * math.log2(_u.n_symbols)
    assert _e.n_escapes == 0
    assert abs(_e.model_bits - _ideal) < 1e-9 * _ideal
    # quantising 1/V to integers out of 2**24: each frequency is 2**24 / V within V counts
    # (the rounding remainder, < V, goes to one symbol), a relative V**2 / 2**24, so each
    # code length moves by less than 2 V**2 / 2**24 bits
    _slack = len(passage) * 2 * _u.n_symbols ** 2 / 2 ** 24
    assert abs(_e.ideal_bits - _ideal) < _slack
    assert -32 - _slack <= 8 * _e.payload_bytes - _ideal <= 64 + _slack
    return


@app.cell
def test_rounded_probabilities_derail_the_decoder(decoded_rounded, decoded_same, np,
                                                  sentence, tables_rounded, tables_same):
    assert decoded_same == sentence
    assert decoded_rounded != sentence
    _first_bad = next(_t for _t in range(len(sentence)) if decoded_rounded[_t] != sentence[_t])
    # up to the first wrong character both decoders read the same text, so the tables differ
    # only through float32 rounding: by a handful of counts, never more
    _d = [int(np.abs(tables_same[_t] - tables_rounded[_t]).max()) for _t in range(_first_bad)]
    assert 0 < max(_d) <= 4
    return


@app.cell
def test_container_refuses_or_catches_the_other_model(outcomes):
    _same, _refit, _claim = outcomes.values()
    assert _same == ("decoded", True)
    assert _refit[0] == "ModelMismatchError"
    assert _claim[0] == "CorruptDataError"
    return


if __name__ == "__main__":
    app.run()
