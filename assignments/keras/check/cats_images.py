"""Generated stand-ins for the lecture's cats-vs-dogs photos (exercise 3), where both convolution
and augmentation matter.

No photos ship offline, so each image holds one "animal": an elliptic patch of texture on a noisy
dark gradient. "Cats" (label 0) are spotted, "dogs" (label 1) striped; the spots and the stripes
cover the same share of the patch (spots of radius 0.3 period: pi * 0.09 = 28%; stripes 0.28
period wide), so the mean colour does not tell them apart and a dense network on the flattened
pixels stays near chance, while a convolution finds the texture wherever it is.

Like a small photo set shot from one side, every training animal stands in the left part of the
frame (centre x in [0.18, 0.34] of the width) with its stripes leaning one way (angle in
[35, 55] degrees); every validation animal is the mirror image: on the right (x in [0.66, 0.82])
with its stripes leaning the other way ([125, 145] degrees: at least 70 degrees from any
training angle, more than the lecture's 40-degree rotation bridges). A model trained on the
training images as they are has never seen an animal on the right, and its Dense layer, which
reads every position separately after Flatten, guesses there. The lecture's ImageDataGenerator
mapping (horizontal flip, shifts, rotation, zoom) shows it mirrored and moved animals, so a CNN
trained with augmentation generalises; translations and rotation alone do not reach the right side.

Bright textures (colour 180-255) on a dark background (0-60) with little noise (sd 4), spots and
stripes 0.12-0.18 of the width apart, so that a CNN learns them in a few epochs of the graded
48 x 48 images in batches of 16: with the lecture's augmentation the 7 panel models
(instructor/panel.py) reached 98-100% held out after 2-7 epochs on seeds 0-2, where on the
earlier set (background 0-110, colour 150-255, noise 12, period 0.10-0.16, angles 15-60) the
reference needed 4-9 epochs to reach 81%. The dense network without convolution still stays
at chance (47-56% on every epoch).
"""

from __future__ import annotations

import numpy as np

VIEWS = ("train", "mirrored")


def animal_images(n: int, size: int, seed: int, view: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """n images uint8 (n, size, size, 3) and labels int64 (n,) alternating 0 ("cats": spots) and
    1 ("dogs": stripes), drawn from np.random.default_rng(seed). view "train": animals on the left,
    stripes at 15-60 degrees; "mirrored": the same distribution flipped left to right."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, not {view!r}")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    imgs = np.empty((n, size, size, 3), np.uint8)
    labels = np.arange(n, dtype=np.int64) % 2
    for i in range(n):
        c0, c1 = rng.uniform(0, 60, 3), rng.uniform(0, 60, 3)  # dark background gradient
        a = rng.uniform(0, 2 * np.pi)
        t = ((np.cos(a) * xx + np.sin(a) * yy) / size)[..., None]
        img = c0 * (1 - t) + c1 * t
        ry, rx = rng.uniform(0.15, 0.22, 2) * size
        cy, cx = rng.uniform(0.3, 0.7) * size, rng.uniform(0.18, 0.34) * size
        period = rng.uniform(0.12, 0.18) * size
        th = np.radians(rng.uniform(35, 55))  # the stripes' normal leans one way, far from its mirror image
        phase_u, phase_v = rng.uniform(), rng.uniform()
        colour = rng.uniform(180, 255, 3)
        if view == "mirrored":  # x -> size - x: the centre moves right, the angle th -> pi - th
            cx, th = size - cx, np.pi - th
        u = (np.cos(th) * xx + np.sin(th) * yy) / period + phase_u
        v = (-np.sin(th) * xx + np.cos(th) * yy) / period + phase_v
        fu, fv = u % 1 - 0.5, v % 1 - 0.5
        region = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
        pattern = fu**2 + fv**2 < 0.3**2 if labels[i] == 0 else np.abs(fu) < 0.14
        img[region & pattern] = colour  # a bright texture of random colour
        img += rng.normal(0, 4, img.shape)
        imgs[i] = np.clip(img, 0, 255).astype(np.uint8)
    return imgs, labels
