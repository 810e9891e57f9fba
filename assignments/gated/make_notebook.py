"""Build assignments/gated/gated.ipynb: the stubs come from the reference's signatures and
docstrings, so the notebook cannot drift from the student API.

    deepgrade notebook gated     (runs build() with the course folder on the path)
"""

from __future__ import annotations

import nbformat

from deepgrade.authoring.authoring import check_cell, code, markdown, new_notebook, stub
from solutions import gated


def build() -> nbformat.NotebookNode:
    cells = [
        markdown(
            """
            # Assignment: gated recurrent units (LSTM, GRU) and their uses

            A plain RNN forgets quickly: its gradient vanishes over long sequences. The
            lecture's answer is *complex recurrent units with gates*, which control the
            information passed on to the future:

            - the **LSTM** keeps a memory (the cell state) and three gates decide what to
              forget, what to write and what to show;
            - the **GRU** merges the forget and input gates into one *update gate* and the
              cell state into the hidden state: fewer parameters, same idea.

            You will write one step and a whole forward pass of each in plain numpy, then
            recurrent dropout done right, a bidirectional RNN and an embedding lookup.

            **Notation.** `[h, x]` is the concatenation along the feature axis, **h first**,
            shape (N, H + D). The lecture's `W · [h_{t-1}, x_t]` is written `[h, x] @ W` with
            W of shape (H + D, H): its first H rows multiply h, its last D rows multiply x.

            **Checking your work.** After each function, run the `grader.check(...)` cell
            below it. It runs the public checks (small cases you can redo by hand) and says
            what differs, gate by gate, and which common mistake it recognises. Your grade
            also uses hidden checks on other sizes (several samples, longer sequences,
            D != H, non-zero biases), so make your functions general.
            """
        ),
        code(
            """
            import numpy as np
            import otter

            grader = otter.Notebook()


            def sigmoid(z):
                \"\"\"The logistic function 1 / (1 + exp(-z)), elementwise.\"\"\"
                return 1.0 / (1.0 + np.exp(-z))
            """
        ),
        markdown(
            """
            ## 1. LSTM: one step

            With `hx = [h_{t-1}, x_t]` (shape (N, H + D)):

            - **forget gate** `f = sigmoid(hx @ W_f + b_f)`: how much of the old memory to keep,
            - **memory (input) gate** `i = sigmoid(hx @ W_i + b_i)` and candidate
              `c_tilde = tanh(hx @ W_c + b_c)`: what to write,
            - **cell state update** `c_t = f * c_prev + i * c_tilde`,
            - **output gate** `o = sigmoid(hx @ W_o + b_o)` and `h_t = o * tanh(c_t)`.

            Return the gates too, in a dict with keys `"f"`, `"i"`, `"c_tilde"`, `"o"`: the
            checks look at them one by one, so they can tell you which gate is wrong.
            """
        ),
        code(stub(gated.lstm_step)),
        check_cell("lstm_step"),
        markdown(
            """
            ## 2. LSTM over a sequence

            Run `lstm_step` at every time step, passing each step's `h_t` and `c_t` on to
            the next one. Return all hidden states and all cell states.
            """
        ),
        code(stub(gated.lstm_forward)),
        check_cell("lstm_forward"),
        markdown(
            """
            ## 3. GRU: one step

            The lecture's GRU (reset applied to h *before* the product):

            - update gate `z = sigmoid([h, x] @ W_z + b_z)`,
            - reset gate `r = sigmoid([h, x] @ W_r + b_r)`,
            - candidate `h_tilde = tanh([r * h, x] @ W_h + b_h)`,
            - `h_t = (1 - z) * h_prev + z * h_tilde`: z = 1 takes the new candidate.

            Careful: Keras writes `h = z * h_prev + (1 - z) * h_tilde` (its z is our 1 - z),
            and its default `reset_after=True` applies r after the product. Follow the
            lecture here. Return the gates in a dict with keys `"z"`, `"r"`, `"h_tilde"`.
            """
        ),
        code(stub(gated.gru_step)),
        check_cell("gru_step"),
        markdown(
            """
            ## 4. GRU over a sequence, with recurrent dropout

            RNNs overfit too, but dropout is not trivial for them: *the same pattern of
            dropped units should be applied at every time step* (Gal and Ghahramani), or
            the noise accumulates and learning suffers. Keras has two rates: `dropout` for
            the inputs and `recurrent_dropout` for the recurrent state.

            Here the masks are given (they already hold 0 or 1 / (1 - rate)):
            `input_mask` (N, D) multiplies every `x_t`, `recurrent_mask` (N, H) multiplies
            `h_prev` wherever it enters the gates and the candidate, at every step. The
            memory itself is not dropped: keep the unmasked `h_prev` in `(1 - z) * h_prev`.
            With no masks (None) this is a plain GRU.
            """
        ),
        code(stub(gated.gru_forward)),
        check_cell("gru_forward"),
        markdown(
            """
            ## 5. Bidirectional RNN

            Two RNNs: one reads the sequence in order, the other reads it reversed; then
            both are merged. Both start from zero states. Reverse the backward RNN's
            outputs back, so that index t of both halves lines up with `x_t` (this is what
            Keras' `Bidirectional(..., return_sequences=True)` returns). Merge modes:
            `"concat"` (forward first, (N, T, 2H)), `"sum"` and `"ave"` ((N, T, H)).
            Use your `gru_forward` or `lstm_forward`.
            """
        ),
        code(stub(gated.bidirectional_forward)),
        check_cell("bidirectional_forward"),
        markdown(
            """
            ## 6. Embedding layer

            An embedding is nothing more than a lookup table for categorical data: row
            `ids[n, t]` of `E`. It gives the same result as `one_hot(ids) @ E` without the
            multiplication. An id outside 0..V-1 must raise `IndexError` (numpy would read
            `E[-1]` as the last row without complaint).
            """
        ),
        code(stub(gated.embedding_lookup)),
        check_cell("embedding_lookup"),
        markdown(
            """
            ## 7. How many parameters? LSTM vs GRU

            The lecture: an LSTM has weights and biases for the forget gate, the memory gate
            (twice) and the output gate, *for every unit*; the main advantage of a GRU is its
            reduced number of parameters. Count them for D = 8 inputs and H = 32 units
            (one W of shape (H + D, H) and one b of shape (H,) per gate), then compare with
            Keras' `count_params()`.
            """
        ),
        code(
            """
            D, H = 8, 32
            lstm_count = None  # YOUR CODE HERE: the LSTM's number of parameters
            gru_count = None  # YOUR CODE HERE: the GRU's number of parameters
            print("LSTM:", lstm_count, " GRU:", gru_count)
            """
        ),
        markdown(
            """
            The next cell imports Keras (a few seconds) if you have it (`pip install
            tensorflow-cpu`; nothing else in this notebook needs it). It runs in Jupyter only;
            the autograder skips it. Note that the GRU must use the lecture's form
            (`reset_after=False`): Keras' default keeps two bias vectors per gate.
            """
        ),
        code(
            """
            try:
                get_ipython  # defined in Jupyter only
                IN_JUPYTER = True
            except NameError:
                IN_JUPYTER = False

            keras = None
            if IN_JUPYTER:
                try:
                    import keras
                except ImportError:
                    print("Keras is not installed (pip install tensorflow-cpu): no comparison with its counts")

            if keras is not None:
                lstm_layer = keras.layers.LSTM(H)
                lstm_layer.build((None, None, D))
                gru_layer = keras.layers.GRU(H, reset_after=False)
                gru_layer.build((None, None, D))
                gru_default = keras.layers.GRU(H)
                gru_default.build((None, None, D))
                print("Keras LSTM:", lstm_layer.count_params(), " yours:", lstm_count)
                print("Keras GRU(reset_after=False):", gru_layer.count_params(), " yours:", gru_count)
                print("Keras GRU (default, reset_after=True):", gru_default.count_params())
            """
        ),
        markdown("## Check everything\n\nRun every public check once more before you submit."),
        code("grader.check_all()"),
    ]
    return new_notebook(cells, "gated")
