"""The convolutions take their padding as ``padding=``, as pooling and the layers do."""
import numpy as np
import pytest

import graphgrad as gg


def test_conv2d_padding_adds_zeros_around_each_image():
    A = np.ones((1, 3, 3, 1))
    W = np.ones((3, 3, 1, 1))
    Z = gg.conv2d(A, W, padding=1)  # each output counts the image's pixels in its window
    np.testing.assert_array_equal(Z.data[0, :, :, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])
    np.testing.assert_array_equal(gg.conv2d(A, W, None, 1, 1).data, Z.data)


def test_conv1d_padding_adds_zeros_at_both_ends():
    Z = gg.conv1d(np.ones((1, 3, 1)), np.ones((3, 1, 1)), padding=1)
    np.testing.assert_array_equal(Z.data[0, :, 0], [2, 3, 2])


def test_conv_transpose2d_padding_crops_the_output():
    # Each input pixel adds a 3 x 3 block of ones into the 4 x 4 output; padding=1 keeps the
    # middle 2 x 2, which all four blocks cover.
    Z = gg.conv_transpose2d(np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1)), padding=1)
    np.testing.assert_array_equal(Z.data[0, :, :, 0], [[4, 4], [4, 4]])


@pytest.mark.parametrize("conv, A, W", [
    (gg.conv2d, np.ones((1, 3, 3, 1)), np.ones((3, 3, 1, 1))),
    (gg.conv1d, np.ones((1, 3, 1)), np.ones((3, 1, 1))),
    (gg.conv_transpose2d, np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1))),
])
def test_the_former_spelling_pad_is_refused_naming_padding(conv, A, W):
    with pytest.raises(gg.GraphgradTypeError, match=rf"{conv.__name__}: .*padding=1") as info:
        conv(A, W, pad=1)
    assert isinstance(info.value, TypeError)
