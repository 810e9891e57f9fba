"""Build assignments/cnn/cnn.ipynb: the stubs come from the reference's signatures and
docstrings, so the notebook cannot drift from the student API.

    deepgrade notebook cnn     (runs build() with the course folder on the path)
"""

from __future__ import annotations

import nbformat

from deepgrade.authoring.authoring import check_cell, code, markdown, new_notebook, stub
from solutions import cnn


def build() -> nbformat.NotebookNode:
    cells = [
        markdown(
            """
            # Assignment: the four steps of a CNN

            In the lecture a convolutional neural network takes four steps:

            1. **Convolution** (+ ReLU): slide a *feature detector* over the image and write
               the results on a *feature map*;
            2. **Max pooling**: keep the largest value of each small window;
            3. **Flattening**: turn the pooled maps into one long vector;
            4. **Full connection**: a dense layer (and softmax) turns that vector into class
               probabilities.

            You will write each step in plain numpy, check it against the lecture's own
            numbers, and chain them into a whole forward pass. Do not import TensorFlow or
            Keras in your functions: the point is to see every number.

            **Checking your work.** After each function, run the `grader.check(...)` cell
            below it. It runs the public checks (the lecture's examples) and tells you what
            differs and, when it recognises a common mistake, which one. Your grade also
            uses hidden checks on other shapes, strides and paddings, so make your
            functions general: never hard-code the lecture's answers.
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
            ## Step 1: Convolution

            The lecture's 7x7 image and 3x3 feature detector:
            """
        ),
        code(
            """
            image = np.array([
                [0, 0, 0, 0, 0, 0, 0],
                [0, 1, 0, 0, 0, 1, 0],
                [0, 0, 0, 0, 0, 0, 0],
                [0, 0, 0, 1, 0, 0, 0],
                [0, 1, 0, 0, 0, 1, 0],
                [0, 0, 1, 1, 1, 0, 0],
                [0, 0, 0, 0, 0, 0, 0],
            ], dtype=float)
            feature_detector = np.array([
                [0, 0, 1],
                [1, 0, 0],
                [0, 1, 1],
            ], dtype=float)
            """
        ),
        markdown(
            """
            Place the feature detector on the top-left 3x3 window of the image, multiply
            cell by cell and add up: that is the first number of the feature map. Move one
            cell right and repeat; at the end of a row, move one cell down. The detector
            only goes where it fits entirely ("valid"), so a 7x7 image and a 3x3 detector
            give a 5x5 feature map.

            The formula on the slide, $(f * g)(t) = \\int f(\\tau) g(t - \\tau) d\\tau$, is the
            mathematical convolution, which flips the kernel. CNN layers do **not** flip it
            (strictly speaking they compute a cross-correlation), and neither should you.

            *Look closely:* one number on the lecture's final feature-map slide does not
            follow from the image. When your function works, find it.
            """
        ),
        code(stub(cnn.conv2d_single)),
        check_cell("conv2d_single"),
        markdown(
            """
            The lecture shows what classic kernels do to a picture: sharpen, blur, edge
            detect, emboss. Try them on the image (or on any grey-scale array you like).
            """
        ),
        code(
            """
            edge_detect = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float)
            emboss = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float)
            # conv2d_single(image, edge_detect)
            """
        ),
        markdown(
            """
            ### Colour images, padding and stride

            A colour image has three channels (red, green, blue), and a filter has one
            kernel per input channel. The output value is the sum over **all** channels of
            the products, plus **one** bias per filter. The lecture's example: the
            channels give 308, -498 and 164, and with bias 1 the output is
            308 - 498 + 164 + 1 = -25. The slide also pads each channel with a border of
            zeros so that the kernel can be centred on the corner pixel.

            Write `zero_pad` first, then the full layer `conv2d`: several filters
            (`kernels` has shape (kh, kw, C_in, C_out)), a stride (how many cells the
            window moves) and zero padding.
            """
        ),
        code(stub(cnn.zero_pad)),
        check_cell("zero_pad"),
        code(stub(cnn.conv2d)),
        check_cell("conv2d"),
        markdown(
            """
            ## Step 1b: ReLU

            The ReLU layer adds non-linearity: every negative value of the feature map
            becomes 0.
            """
        ),
        code(stub(cnn.relu)),
        check_cell("relu"),
        markdown(
            """
            ## Step 2: Max pooling

            Slide a 2x2 window with stride 2 over the feature map and keep the maximum of
            each window. The lecture's 5x5 feature map becomes a 3x3 pooled map: with
            `padding="same"` the windows at the right and bottom edges, which hang over the
            border, still count (as in Keras' `MaxPooling2D(2, 2, padding="same")`). A
            padded cell must never win, even when every real value is negative. With
            `padding="valid"` only whole windows count (5x5 becomes 2x2).
            """
        ),
        code(stub(cnn.max_pool2d)),
        check_cell("max_pool2d"),
        markdown(
            """
            ## Step 3: Flattening

            The pooled map becomes one column: row by row, as the lecture's
            [[1, 1, 0], [4, 2, 1], [0, 2, 1]] becomes [1, 1, 0, 4, 2, 1, 0, 2, 1].
            """
        ),
        code(stub(cnn.flatten)),
        check_cell("flatten"),
        markdown(
            """
            ## Step 4: Full connection

            The flattened vector is the input of an ordinary fully connected layer, and
            softmax turns its scores into probabilities. Make softmax numerically stable:
            `np.exp(1000)` overflows.
            """
        ),
        code(stub(cnn.dense)),
        check_cell("dense"),
        code(stub(cnn.softmax)),
        check_cell("softmax"),
        markdown(
            """
            ## All four steps

            Chain your functions: convolution + ReLU, max pooling (2x2, stride 2, "same"),
            flattening, full connection and softmax.
            """
        ),
        code(stub(cnn.cnn_forward)),
        check_cell("cnn_forward"),
        markdown("## Check everything\n\nRun every public check once more before you submit."),
        code("grader.check_all()"),
    ]
    return new_notebook(cells, "cnn")
