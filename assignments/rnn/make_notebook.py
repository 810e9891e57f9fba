"""Build rnn.ipynb, the student notebook of the `rnn` assignment: the stubs come from the
reference's signatures and docstrings (solutions/rnn.py), so the notebook cannot drift from
the student API.

    deepgrade notebook rnn     (runs build() with the course folder on the path)
"""

from __future__ import annotations

import nbformat

from deepgrade.authoring.authoring import check_cell, code, markdown, new_notebook, stub
from solutions import rnn

CELLS = [
    markdown(
        """
# The vanilla RNN and backpropagation through time

A feed-forward network reads one input and forgets it. A **recurrent** neural network
reads a sequence one time step at a time and keeps an internal state h_t, a message it
passes down through time. At every step it has two inputs, the current reading x_t and
its state h_{t-1}, and one output y_t:

    h_t = tanh(x_t @ W_xh + h_{t-1} @ W_hh + b_h)        (update the hidden state)
    y_t = h_t @ W_hy + b_y                                (output)

W_xh goes from input to hidden, W_hh from hidden to hidden, W_hy from hidden to output.
We store the weights **input-major**, like `keras.layers.SimpleRNN`
(`kernel = W_xh`, `recurrent_kernel = W_hh`, `bias = b_h`): a batch of N rows is
multiplied on the left. Shapes: x_t (N, D), h_t (N, H), y_t (N, K); the parameters are
a dict `params` with "W_xh" (D, H), "W_hh" (H, H), "W_hy" (H, K), "b_h" (H,), "b_y" (K,).

Work in plain numpy. After each function, run the `grader.check` cell: it runs the
public checks and tells you what is wrong and, when it recognises it, why.
"""
    ),
    code(
        """
import numpy as np
import otter

grader = otter.Notebook()
"""
    ),
    markdown(
        """
## 1. One time step

Write `rnn_step`: the new hidden state and the output of one step, for a whole batch.
"""
    ),
    code(stub(rnn.rnn_step)),
    check_cell("rnn_step"),
    markdown(
        """
## 2. The forward pass over a sequence

An RNN can be drawn as many copies of the same cell, each passing its state to the
next. **We reuse the same weight matrices at every time step.** Write `rnn_forward`:
start from h0 and apply `rnn_step` at t = 1, ..., T. Return every hidden state and every
output, and a `cache` of whatever your `rnn_backward` will need (it is yours: the grader
hands it from your `rnn_forward` to your `rnn_backward` and never looks inside).
"""
    ),
    code(stub(rnn.rnn_forward)),
    check_cell("rnn_forward"),
    markdown(
        """
## 3. The loss: a sum over time

We can compute a loss at each time step; the global loss is the **sum of the losses of
all time steps**. Here the loss at step t is the squared error 0.5 * ||y_hat_t - y_t||^2,
summed over time and averaged over the N sequences of the batch:

    loss = 0.5 * sum((y_hat - y)**2) / N

Write `mse_loss`, returning the loss and its gradient dy = dLoss/dy_hat.
"""
    ),
    code(stub(rnn.mse_loss)),
    check_cell("mse_loss"),
    markdown(
        """
## 4. Backpropagation through time (BPTT)

The error is propagated back first through each output, then through the hidden
states, from t = T down to t = 1. Two things make it different from a feed-forward
network:

* h_t feeds **both** y_t and h_{t+1}: dLoss/dh_t = dy_t @ W_hy.T + (what flows back
  from step t+1). Call the second term `dh_next`.
* the same weights are used at every step, so their gradients are **summed over time**.

Remember that d tanh(a)/da = 1 - tanh(a)^2, and h_t is already tanh(a_t).
Write `rnn_backward`: it receives dLoss/dy_t for every t and the cache of your
`rnn_forward`, and returns the gradients of the loss with respect to every weight,
the initial state h0 and the inputs x. The grader checks it against the reference. If
your `rnn_forward` is wrong, your `rnn_backward` (which reads its cache) cannot match the
reference; the grader then also judges it on the hidden states your `rnn_forward`
computed, and numerically, against the derivative of your own `rnn_forward`. Those two
checks can only add credit, and the feedback says which of the two functions is wrong.
"""
    ),
    code(stub(rnn.rnn_backward)),
    check_cell("rnn_backward"),
    markdown(
        """
## 5. Vanishing and exploding gradients

The gradient reaching h_0 is a product of many factors: one W_hh and one tanh
derivative per step (Pascanu et al. 2013). When these factors are mostly below 1 the
gradient **vanishes** and the early steps learn nothing; when they are mostly above 1
it **explodes**. Write `hidden_grad_norms`: the norm of dLoss/dh_t (the whole gradient
reaching h_t, from y_t and from step t+1) for every t.
"""
    ),
    code(stub(rnn.hidden_grad_norms)),
    check_cell("hidden_grad_norms"),
    markdown(
        """
### The remedy: ReLU and the identity

The lecture's first two remedies act on the two factors of each step. Going back from
h_t to h_{t-1} multiplies the gradient by the activation's derivative and by W_hh.T:

* tanh'(a) = 1 - tanh(a)^2 is at most 1 and shrinks towards 0 as the unit saturates;
  **ReLU**'s derivative is exactly 1 wherever the unit is active (a > 0), so it does
  not shrink the gradient there (and it is 0 where the unit is off);
* with W_hh = **the identity**, the recurrent matrix does not shrink it either.

Together, where the units stay active, the gradient reaches early steps unchanged.
Write `relu_rnn_grad_norms`: the norms of `hidden_grad_norms`, for the same RNN with
ReLU in place of tanh,

    h_t = relu(x_t @ W_xh + h_{t-1} @ W_hh + b_h)        y_t = h_t @ W_hy + b_y

It takes the inputs rather than a cache: run the forward pass inside it, keeping what
the backward pass needs (relu'(a_t) = 1 where a_t > 0, else 0).

The grader also checks the story itself, with a hidden check of weight 1 on each side.
The sequence has 20 steps and the loss is on the last output only.

* The problem, part of `hidden_grad_norms`: your `rnn_forward` and `hidden_grad_norms`,
  with tanh and W_hh = 0.5 x an orthogonal matrix, must show the norm at t = 1 below
  0.001 x the norm at t = T. Each step back multiplies it by at most 0.5, so a right
  answer gives less than 0.5^19, about 2e-6.
* The remedy, part of this question: your `relu_rnn_grad_norms`, with W_hh = I and
  b_h = 0.5 (which keeps every unit active), must keep it within a factor of 10 of the
  norm at t = T. A right answer gives exactly 1.
"""
    ),
    code(stub(rnn.relu_rnn_grad_norms)),
    check_cell("relu_rnn_grad_norms"),
    markdown(
        """
### Plot: watching the gradient vanish and explode

Take a 20-step sequence and put the whole loss on the **last** output only, so that
everything reaching early steps has travelled back through time. Plot the norm of
dLoss/dh_t against t for W_hh scaled small (0.5 x a random orthogonal matrix), scaled
large (3 x the same matrix) and the **identity initialisation** (W_hh = I). Use a log
scale on the y axis, and add the remedy: ReLU with W_hh = I (`relu_rnn_grad_norms`).
What happens to the gradient at early steps in each case?

The lecture's three remedies for vanishing gradients are: (1) an activation whose
derivative is 1 (ReLU, for positive inputs), (2) initialising W_hh to the identity,
so the state is not shrunk at every step, and (3) gated units (LSTM, GRU), which
control what passes to the future. Exploding gradients are tamed by clipping them.
"""
    ),
    code(
        """
import matplotlib.pyplot as plt

rng = np.random.default_rng(0)
N, T, D, H, K = 4, 20, 3, 16, 1
x = rng.normal(0, 0.1, (N, T, D))
h0 = np.zeros((N, H))
Q, _ = np.linalg.qr(rng.normal(size=(H, H)))  # a random orthogonal matrix
dy = np.zeros((N, T, K))
dy[:, -1] = 1.0  # the loss is on the last output only

for label, W_hh in [("0.5 x orthogonal", 0.5 * Q), ("3 x orthogonal", 3.0 * Q), ("identity", np.eye(H))]:
    params = {
        "W_xh": rng.normal(0, 0.5, (D, H)),
        "W_hh": W_hh,
        "W_hy": rng.normal(0, 0.5, (H, K)),
        "b_h": np.zeros(H),
        "b_y": np.zeros(K),
    }
    try:
        _, _, cache = rnn_forward(x, h0, params)
        plt.semilogy(np.arange(1, T + 1), hidden_grad_norms(dy, cache), marker="o", label="tanh, " + label)
    except NotImplementedError:
        print("write rnn_forward and hidden_grad_norms first")
        break
try:
    # the same weights with W_hh = I; b_h = 0.5 keeps the units active (a_t > 0)
    params = {**params, "W_hh": np.eye(H), "b_h": np.full(H, 0.5)}
    plt.semilogy(np.arange(1, T + 1), relu_rnn_grad_norms(dy, x, h0, params), marker="s", label="ReLU, identity")
except NotImplementedError:
    print("write relu_rnn_grad_norms to see the remedy")
plt.xlabel("time step t")
plt.ylabel("norm of dLoss/dh_t")
plt.legend()
plt.show()
"""
    ),
    markdown(
        """
*Your answer:* what does each curve show, and why do ReLU and the identity initialisation help?
"""
    ),
    markdown(
        """
## 6. Gradient clipping

When the gradients explode, one update can throw the weights far away. Pascanu et al.
(2013) rescale big gradients: compute the **global norm** of all gradients together,
sqrt(sum over every gradient of the sum of its squared entries), and when it is larger
than `max_norm` multiply **every** gradient by max_norm / global_norm. The direction
of the update is kept; only its length is cut. Do not modify the arrays you are given.
"""
    ),
    code(stub(rnn.clip_by_global_norm)),
    check_cell("clip_by_global_norm"),
    markdown(
        """
## Submit

Run every cell from the top (Kernel > Restart & Run All), then the cell below.
"""
    ),
    code("grader.check_all()"),
]


def build() -> nbformat.NotebookNode:
    return new_notebook(CELLS, "rnn")
