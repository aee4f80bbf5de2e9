"""The programming assignments of the course's last two courses (Convolutional Neural Networks;
Sequence Models), ported to graphgrad as a learner writes them: the course's own code with
Tensors where it has arrays, or with `nn` and `optim`. Each checks its values against the
course's formulas computed in numpy, finite differences, or the values the assignments print.
Data are generated: no downloads."""
import numpy as np
import pytest
from course_attention import scaled_dot_product_attention_numpy

import graphgrad as gg
from graphgrad import nn


# -- course 4, week 1: convolution model, step by step ---------------------------------------
def zero_pad(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant",
                  constant_values=(0, 0))


def conv_single_step(a_slice_prev, W, b):
    s = np.multiply(a_slice_prev, W)
    Z = np.sum(s)
    return Z + np.squeeze(b)  # the course's float(b) would drop b's gradient: refused


def conv_forward(A_prev, W, b, hparameters):
    """The course's loops, with the values collected in a list: Z[i, h, w, c] = ... into
    np.zeros would keep the numbers only."""
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H = int((n_H_prev + 2 * pad - f) / stride) + 1
    n_W = int((n_W_prev + 2 * pad - f) / stride) + 1
    Z = []
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):
            vert_start = stride * h
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = stride * w
                horiz_end = horiz_start + f
                for c in range(n_C):
                    a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    Z.append(conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c]))
    return gg.stack(Z).reshape(m, n_H, n_W, n_C)


def pool_forward(A_prev, hparameters, mode="max"):
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    f, stride = hparameters["f"], hparameters["stride"]
    n_H = int(1 + (n_H_prev - f) / stride)
    n_W = int(1 + (n_W_prev - f) / stride)
    A = []
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C_prev):
                    a_prev_slice = A_prev[i, stride * h:stride * h + f,
                                          stride * w:stride * w + f, c]
                    A.append(np.max(a_prev_slice) if mode == "max" else np.mean(a_prev_slice))
    return gg.stack(A).reshape(m, n_H, n_W, n_C_prev)


def test_conv_forward_by_the_courses_loops_on_tensors_is_conv2d_and_prints_its_mean():
    np.random.seed(1)
    A_prev = gg.Tensor(np.random.randn(2, 5, 7, 4), requires_grad=True)
    W = gg.Tensor(np.random.randn(3, 3, 4, 8), requires_grad=True)
    b = gg.Tensor(np.random.randn(1, 1, 1, 8), requires_grad=True)
    assert zero_pad(A_prev, 3).shape == (2, 11, 13, 4)
    Z = conv_forward(A_prev, W, b, {"pad": 1, "stride": 2})
    assert Z.shape == (2, 3, 4, 8)
    assert np.mean(Z.data) == pytest.approx(0.5511276474566768, rel=1e-12)  # the course's
    np.testing.assert_allclose(Z.data[0, 2, 1], [-2.17796037, 8.07171329, -0.5772704,
                                                 3.36286738, 4.48113645, -2.89198428,
                                                 10.99288867, 3.03171932], atol=1e-8)
    reference = gg.conv2d(A_prev, W, b, stride=2, padding=1)
    np.testing.assert_allclose(Z.data, reference.data, rtol=1e-12, atol=1e-12)
    weights = np.random.randn(*Z.shape)
    grads = []
    for out in (Z, reference):  # conv_backward's dA, dW, db: the same through both
        for t in (A_prev, W, b):
            t.grad = None
        (out * weights).sum().backward()
        grads.append([t.grad.copy() for t in (A_prev, W, b)])
    for by_loops, by_conv2d in zip(*grads):
        np.testing.assert_allclose(by_loops, by_conv2d, rtol=1e-10, atol=1e-12)
    small = [np.random.randn(*shape) for shape in ((1, 3, 4, 2), (2, 2, 2, 3), (1, 1, 1, 3))]
    assert gg.gradcheck(lambda A, W, b: conv_forward(A, W, b, {"pad": 1, "stride": 2}), small)


@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_forward_by_the_courses_loops_is_the_pooling_op_forward_and_backward(mode):
    np.random.seed(1)
    A_prev = gg.Tensor(np.random.randn(2, 5, 5, 3), requires_grad=True)
    A = pool_forward(A_prev, {"stride": 1, "f": 3}, mode)
    pooled = (gg.max_pool2d if mode == "max" else gg.avg_pool2d)(A_prev, 3, 1)
    np.testing.assert_allclose(A.data, pooled.data, rtol=1e-12, atol=1e-15)
    first = {"max": [1.96710175, 0.84616065, 1.27375593],           # the course's A[1, 1]
             "average": [0.44497696, -0.00261695, -0.31040307]}[mode]
    np.testing.assert_allclose(A.data[1, 1, 0], first, atol=1e-8)
    weights = np.arange(A.size, dtype=float).reshape(A.shape)
    (A * weights).sum().backward()
    by_loops, A_prev.grad = A_prev.grad, None
    (pooled * weights).sum().backward()  # pool_backward's mask / distribute_value
    np.testing.assert_allclose(by_loops, A_prev.grad, rtol=1e-12, atol=1e-14)


def test_the_courses_z_i_h_w_c_assignment_into_a_tensor_says_to_stack_a_list():
    """conv_forward's Z = np.zeros(...); Z[i, h, w, c] = ..., with Z a Tensor, was refused with
    'build a new tensor (gg.where, gg.concatenate, gg.pad)', none of which fills an array in
    a loop; it now says to collect the values in a list and stack them into Z's shape."""
    np.random.seed(1)
    A_prev = gg.Tensor(np.random.randn(1, 3, 3, 2), requires_grad=True)
    W = gg.Tensor(np.random.randn(2, 2, 2, 1), requires_grad=True)
    b = gg.Tensor(np.random.randn(1, 1, 1, 1), requires_grad=True)
    Z = gg.Tensor(np.zeros((1, 2, 2, 1)), name="Z")
    with pytest.raises(gg.InplaceError, match=r"'Z' \(1, 2, 2, 1\) float64 does not support item "
                       r"assignment.*Z\[i, h, w, c\] = \.\.\. in a loop: append each value to "
                       r"a list, then gg\.stack\(values\)\.reshape\(1, 2, 2, 1\)"):
        Z[0, 0, 0, 0] = conv_single_step(A_prev[0, :2, :2], W[..., 0], b[..., 0])


# -- course 5, week 4: the Transformer's scaled dot-product attention ------------------------
def _course_attention_case():
    """scaled_dot_product_attention_test's q, k, v and its mask of one sequence, (1, 3, 4)."""
    q = np.array([[1, 0, 1, 1], [0, 1, 1, 1], [1, 0, 0, 1]]).astype(np.float32)
    k = np.array([[1, 1, 0, 1], [1, 0, 1, 1], [0, 1, 1, 0], [0, 0, 0, 1]]).astype(np.float32)
    v = np.array([[0, 0], [1, 0], [1, 0], [1, 1]]).astype(np.float32)
    mask = np.array([[[1, 1, 0, 1], [1, 1, 0, 1], [1, 1, 0, 1]]])
    return q, k, v, mask


def test_scaled_dot_product_attention_takes_the_courses_mask_with_its_batch_axis():
    """The course's test calls the attention with q (3, 4) and a mask (1, 3, 4): numpy's
    scores + (1 - mask) * -1e9 broadcast to (1, 3, 4), but nn.scaled_dot_product_attention
    refused the mask as one that 'does not broadcast to the scores' shape (3, 4): aligned from
    the right, each of its dimensions must equal the scores' or be 1', which it does."""
    q, k, v, mask = _course_attention_case()
    Q = gg.Tensor(q, requires_grad=True)
    output, weights = nn.scaled_dot_product_attention(Q, k, v, mask)
    assert output.shape == (1, 3, 2) and weights.shape == (1, 3, 4)
    course = [[0.30719590187072754, 0.5064803957939148, 0.0, 0.18632373213768005],
              [0.3836517333984375, 0.3836517333984375, 0.0, 0.2326965481042862],
              [0.3836517333984375, 0.3836517333984375, 0.0, 0.2326965481042862]]
    np.testing.assert_allclose(weights.data, [course], rtol=1e-6)  # the values the test asserts
    by_hand, _ = scaled_dot_product_attention_numpy(q, k, v, mask)
    np.testing.assert_allclose(output.data, by_hand, rtol=1e-6)
    assert gg.gradcheck(lambda q: nn.scaled_dot_product_attention(q, k, v, mask)[0],
                        [q.astype(np.float64)])
    with pytest.raises(gg.ShapeError, match=r"mask of shape \(1, 2, 4\) does not broadcast"):
        nn.scaled_dot_product_attention(Q, k, v, mask[:, :2])  # one row short: still refused
    with pytest.raises(gg.ShapeError, match=r"mask of shape \(2, 3, 4\) does not broadcast"):
        nn.scaled_dot_product_attention(Q, k, v, np.concatenate([mask, mask]))  # two outputs


# -- course 5, week 2: word vectors and Emojify ------------------------------------------------
_WORDS = "man woman king queen boy girl computer receptionist".split()


def _word_to_vec_map():
    E = gg.Tensor(np.random.default_rng(0).standard_normal((len(_WORDS), 50)),
                  requires_grad=True, name="E")
    return E, {w: E[i] for i, w in enumerate(_WORDS)}


def cosine_similarity(u, v):
    if np.all(u == v):
        return 1
    dot = np.dot(u, v)
    norm_u, norm_v = np.sqrt(np.sum(u * u)), np.sqrt(np.sum(v * v))
    return dot / (norm_u * norm_v)


def neutralize(word, g, word_to_vec_map):
    e = word_to_vec_map[word]
    e_biascomponent = np.dot(e, g) / np.sum(g * g) * g
    return e - e_biascomponent


def equalize(pair, bias_axis, word_to_vec_map):
    e_w1, e_w2 = (word_to_vec_map[w] for w in pair)
    mu = (e_w1 + e_w2) / 2
    mu_B = np.dot(mu, bias_axis) / np.sum(bias_axis * bias_axis) * bias_axis
    mu_orth = mu - mu_B
    e_w1B = np.dot(e_w1, bias_axis) / np.sum(bias_axis * bias_axis) * bias_axis
    e_w2B = np.dot(e_w2, bias_axis) / np.sum(bias_axis * bias_axis) * bias_axis
    scale = np.sqrt(np.abs(1 - np.sum(mu_orth * mu_orth)))
    corrected_e_w1B = scale * (e_w1B - mu_B) / np.linalg.norm(e_w1 - mu_orth - mu_B)
    corrected_e_w2B = scale * (e_w2B - mu_B) / np.linalg.norm(e_w2 - mu_orth - mu_B)
    return corrected_e_w1B + mu_orth, corrected_e_w2B + mu_orth


def test_cosine_similarity_neutralize_and_equalize_on_tensor_word_vectors():
    E, word_to_vec_map = _word_to_vec_map()
    e = E.data
    u, v = word_to_vec_map["man"], word_to_vec_map["woman"]
    similarity = cosine_similarity(u, v)
    assert similarity.item() == pytest.approx(e[0] @ e[1] / np.linalg.norm(e[0]) /
                                              np.linalg.norm(e[1]), rel=1e-14)
    assert cosine_similarity(u, u) == 1
    similarity.backward()  # d cos / du = v / (|u||v|) - cos u / |u|^2
    expected = e[1] / np.linalg.norm(e[0]) / np.linalg.norm(e[1]) - similarity.item() * e[0] / (
        e[0] @ e[0])
    np.testing.assert_allclose(E.grad[0], expected, rtol=1e-12)
    g = word_to_vec_map["woman"] - word_to_vec_map["man"]
    e_debiased = neutralize("receptionist", g, word_to_vec_map)
    assert abs(cosine_similarity(e_debiased, g).item()) < 1e-15  # the course prints ~ 1e-17
    e1, e2 = equalize(("boy", "girl"), g, word_to_vec_map)
    sim1, sim2 = cosine_similarity(e1, g).item(), cosine_similarity(e2, g).item()
    assert sim1 == pytest.approx(-sim2, rel=1e-12)  # equal and opposite after equalising
    np.testing.assert_allclose((e1 + e2).data / 2, ((e[4] + e[5]) / 2) - (e[4] + e[5]) / 2 @
                               g.data / (g.data @ g.data) * g.data, rtol=1e-12, atol=1e-14)


def sentence_to_avg(sentence, word_to_vec_map):
    any_word = list(word_to_vec_map.keys())[0]
    words = sentence.lower().split()
    avg = np.zeros(word_to_vec_map[any_word].shape)
    count = 0
    for w in words:
        if w in word_to_vec_map:
            avg += word_to_vec_map[w]
            count += 1
    if count > 0:
        avg = avg / count
    return avg


def test_the_courses_avg_plus_equals_a_word_vector_says_to_write_avg_equals_avg_plus():
    """Emojify's sentence_to_avg starts from avg = np.zeros(...) and adds each word's vector
    with avg += ...: numpy writes into its array and the gradient would be lost. The error
    said numpy.add(..., out=...) 'has no graphgrad op' and to call it on t.data or write a
    gg.Function; it now says what the line does and to write avg = avg + ... instead."""
    E, word_to_vec_map = _word_to_vec_map()
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy\.add\(\.\.\., out=\.\.\.\) "
                       r"writes the values of output of GetItem \(50,\) float64, which requires "
                       r"grad, into a numpy array \(a \+= t with a an array\): the array keeps "
                       r"numbers, not their gradient\. Write a = a \+ t"):
        sentence_to_avg("king and queen", word_to_vec_map)
    with gg.no_grad():  # without a graph, the course's line computes what it does in numpy
        np.testing.assert_allclose(sentence_to_avg("king and queen", word_to_vec_map).data,
                                   (E.data[2] + E.data[3]) / 2, rtol=1e-15)

    def sentence_to_avg_as_told(sentence, word_to_vec_map):
        avg = np.zeros(50)
        words = [w for w in sentence.lower().split() if w in word_to_vec_map]
        for w in words:
            avg = avg + word_to_vec_map[w]
        return avg / len(words)

    avg = sentence_to_avg_as_told("king and queen and king", word_to_vec_map)
    np.testing.assert_allclose(avg.data, (2 * E.data[2] + E.data[3]) / 3, rtol=1e-15)
    W = np.random.default_rng(1).standard_normal((5, 50))
    (W @ avg).sum().backward()  # Emojify's z = W avg + b: dE of each word, times its count / 3
    expected = np.zeros_like(E.data)
    expected[2], expected[3] = 2 / 3 * W.sum(axis=0), 1 / 3 * W.sum(axis=0)
    np.testing.assert_allclose(E.grad, expected, rtol=1e-14)


# -- course 5, week 3: the trigger-word model's Conv1D, BatchNormalization, GRU ---------------
def test_batchnorm1d_normalises_the_trigger_word_models_sequences_over_batch_and_time():
    """The model is Conv1D -> BatchNormalization -> ReLU on (m, T_x, 196): Keras normalises
    each of the 196 units over the m examples and T_x steps. nn.BatchNorm1d(n) refused
    (m, T_x, n) as 'takes Z of shape (m, n)', with nothing to do about it."""
    rng = np.random.default_rng(0)
    X = gg.Tensor(rng.standard_normal((3, 40, 5)), requires_grad=True)
    conv = nn.Conv1d(5, 4, 15, stride=4, rng=0)
    bn = nn.BatchNorm1d(4)
    Z = conv(X)                                               # (3, 7, 4)
    A = gg.relu(bn(Z))
    z = Z.data
    mu, sigma2 = z.mean(axis=(0, 1)), z.var(axis=(0, 1))
    np.testing.assert_allclose(A.data, np.maximum((z - mu) / np.sqrt(sigma2 + 1e-5), 0),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(bn.running_mean, 0.1 * mu, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * sigma2, rtol=1e-12)
    # the same numbers as the (m * T_x, n) rows of a batch of vectors, gradients too
    rows = nn.BatchNorm1d(4)(Z.reshape(-1, 4)).reshape(Z.shape)
    np.testing.assert_allclose(bn(Z).data, rows.data, rtol=1e-12)
    Zc = gg.Tensor(z, requires_grad=True)
    assert gg.gradcheck(lambda Z: nn.BatchNorm1d(4)(Z), [Zc])
    bn.eval()
    np.testing.assert_allclose(bn(Z).data, (z - bn.running_mean) / np.sqrt(bn.running_var
                                                                           + 1e-5), rtol=1e-12)
    with pytest.raises(gg.ShapeError) as info:
        bn(Z.reshape(3, 7, 1, 4))
    assert str(info.value) == ("BatchNorm1d(4) takes Z of shape (m, 4) or sequences (m, T_x, 4), "
                               "got (3, 7, 1, 4) (BatchNorm2d for images)")
    # sequences of the wrong number of units: it named (m, 4) alone, as if sequences were wrong
    with pytest.raises(gg.ShapeError) as info:
        bn(np.zeros((3, 7, 5)))
    assert str(info.value) == ("BatchNorm1d(4) takes Z of shape (m, 4) or sequences (m, T_x, 4), "
                               "got (3, 7, 5)")


# -- course 4, week 3: YOLO's filtering, IoU and non-max suppression on Tensors ---------------
def yolo_filter_boxes(box_confidence, boxes, box_class_probs, threshold=0.6):
    box_scores = box_confidence * box_class_probs
    box_classes = np.argmax(box_scores, axis=-1)
    box_class_scores = np.max(box_scores, axis=-1)
    filtering_mask = box_class_scores >= threshold
    return (box_class_scores[filtering_mask], boxes[filtering_mask],
            box_classes[filtering_mask])


def iou(box1, box2):
    (box1_x1, box1_y1, box1_x2, box1_y2) = box1
    (box2_x1, box2_y1, box2_x2, box2_y2) = box2
    xi1, yi1 = max(box1_x1, box2_x1), max(box1_y1, box2_y1)
    xi2, yi2 = min(box1_x2, box2_x2), min(box1_y2, box2_y2)
    inter_area = max(xi2 - xi1, 0) * max(yi2 - yi1, 0)
    box1_area = (box1_x2 - box1_x1) * (box1_y2 - box1_y1)
    box2_area = (box2_x2 - box2_x1) * (box2_y2 - box2_y1)
    return inter_area / (box1_area + box2_area - inter_area)


def non_max_suppression_indices(boxes, scores, max_boxes, iou_threshold):
    """tf.image.non_max_suppression, as the course describes it: keep the best box, drop the
    boxes that overlap it by more than iou_threshold, and so on."""
    order = list(np.argsort(scores).data[::-1])
    keep = []
    while order and len(keep) < max_boxes:
        best = order.pop(0)
        keep.append(best)
        order = [i for i in order if iou(boxes[best], boxes[i]) <= iou_threshold]
    return np.array(keep)


def test_yolo_filter_boxes_iou_and_non_max_suppression_with_tf_gather_as_np_take():
    """tf.gather(scores, nms_indices) is np.take in numpy: it was refused on a Tensor that
    requires grad as a function 'with no graphgrad op', though it is indexing."""
    assert iou((2, 1, 4, 3), (1, 2, 3, 4)) == pytest.approx(1 / 7)      # the course's iou
    assert iou((1, 2, 3, 4), (5, 6, 7, 8)) == 0                           # no intersection
    assert iou((1, 1, 2, 2), (2, 1, 3, 2)) == 0                           # touching at a side
    assert gg.gradcheck(iou, [[2.0, 1, 4, 3], [1.0, 2, 3, 4]])

    rng = np.random.default_rng(0)
    confidence = gg.Tensor(rng.random((4, 4, 2, 1)), requires_grad=True)
    corners = np.sort(rng.random((4, 4, 2, 2, 2)) * 10, axis=-2)  # x1 <= x2, y1 <= y2
    boxes = gg.Tensor(corners.transpose(0, 1, 2, 4, 3).reshape(4, 4, 2, 4)[..., [0, 2, 1, 3]],
                      requires_grad=True)
    probs = gg.Tensor(rng.random((4, 4, 2, 3)), requires_grad=True)
    scores, kept_boxes, classes = yolo_filter_boxes(confidence, boxes, probs, threshold=0.4)
    box_scores = confidence.data * probs.data
    mask = box_scores.max(axis=-1) >= 0.4
    np.testing.assert_array_equal(scores.data, box_scores.max(axis=-1)[mask])
    np.testing.assert_array_equal(kept_boxes.data, boxes.data[mask])
    np.testing.assert_array_equal(classes.data, box_scores.argmax(axis=-1)[mask])

    nms_indices = non_max_suppression_indices(kept_boxes, scores, max_boxes=5,
                                              iou_threshold=0.5)
    scores = np.take(scores, nms_indices)               # tf.gather(scores, nms_indices)
    kept_boxes = np.take(kept_boxes, nms_indices, axis=0)
    classes = np.take(classes, nms_indices)
    assert len(nms_indices) == 5 and scores.shape == (5,) and kept_boxes.shape == (5, 4)
    assert np.all(np.diff(scores.data) <= 0)  # best first
    np.testing.assert_array_equal(kept_boxes.data, boxes.data[mask][nms_indices])
    np.testing.assert_array_equal(classes.data, box_scores.argmax(axis=-1)[mask][nms_indices])
    (scores.sum() + kept_boxes.sum()).backward()
    cell = np.flatnonzero(mask)[nms_indices]  # the kept cells, numbered as mask's
    expected = np.zeros(mask.size)
    expected[cell] = 1
    np.testing.assert_array_equal(boxes.grad, np.repeat(expected.reshape(mask.shape)[..., None],
                                                        4, axis=-1))
    best = box_scores.argmax(axis=-1).reshape(-1)[cell]  # d max = the chosen class's prob
    expected_dc = np.zeros(mask.size)
    expected_dc[cell] = probs.data.reshape(-1, 3)[cell, best]
    np.testing.assert_allclose(confidence.grad, expected_dc.reshape(confidence.shape),
                               rtol=1e-15)
    flat = np.arange(24.0).reshape(4, 6)
    x = gg.Tensor(flat, requires_grad=True)
    np.testing.assert_array_equal(np.take(x, [5, 7]).data, [5.0, 7.0])  # of the flattened x
    np.testing.assert_array_equal(np.take(x, [-1, 0], axis=-1).data, flat[:, [-1, 0]])
    assert gg.gradcheck(lambda x: np.take(x, [[1, 1], [0, 3]], axis=1), [flat])


# -- course 4, week 3: the U-Net's masks ---------------------------------------------------------
def test_the_u_nets_masks_with_their_channel_axis_are_told_to_drop_it_with_the_right_shape():
    """The U-Net's masks are (m, n_H, n_W, 1), which Keras's SparseCategoricalCrossentropy
    takes; cross_entropy refuses them and said to pass labels.ravel(), of shape (m n_H n_W,),
    which it refused in turn: for logits of more than two axes it says labels[..., 0]."""
    rng = np.random.default_rng(0)
    logits = gg.Tensor(rng.standard_normal((2, 4, 6, 5)), requires_grad=True)
    masks = rng.integers(0, 5, (2, 4, 6, 1))
    with pytest.raises(gg.ShapeError, match=r"take labels of shape \(2, 4, 6\) \(class indices\)"
                       r".*got \(2, 4, 6, 1\)\. Take the class indices out of their axis of "
                       r"1: labels\[\.\.\., 0\]\."):
        nn.cross_entropy(logits, masks)
    cost = nn.cross_entropy(logits, masks[..., 0])
    log_p = logits.data - np.log(np.exp(logits.data).sum(axis=-1, keepdims=True))
    assert cost.item() == pytest.approx(-np.take_along_axis(log_p, masks, -1).mean(), rel=1e-14)
    cost.backward()  # dZ = (softmax - one_hot) / (number of pixels)
    one_hot = np.eye(5)[masks[..., 0]]
    np.testing.assert_allclose(logits.grad, (np.exp(log_p) - one_hot) / 48, rtol=1e-12)
    with pytest.raises(gg.ShapeError, match=r"got \(2, 3, 1\)\. .*labels\[\.\.\., 0\]\."):
        nn.cross_entropy(np.zeros((2, 3, 5)), [[[0], [1], [2]]] * 2)  # sequences' labels too


# -- course 4, week 4: the triplet loss and neural style transfer ------------------------------
def triplet_loss(y_true, y_pred, alpha=0.2):
    anchor, positive, negative = y_pred[0], y_pred[1], y_pred[2]
    pos_dist = np.sum(np.square(np.subtract(anchor, positive)), axis=-1)
    neg_dist = np.sum(np.square(np.subtract(anchor, negative)), axis=-1)
    basic_loss = pos_dist - neg_dist + alpha
    return np.sum(np.maximum(basic_loss, 0.0))


def test_triplet_loss_on_tensors_is_the_formula_and_its_gradient():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 8))
    p = a + 0.3 * rng.standard_normal((3, 8))
    n = a + 0.05 * rng.standard_normal((3, 8))  # negatives closer than the positives...
    n[0] = a[0] + 1.0  # ...but one, already far enough: no loss, no gradient
    A, P, N = (gg.Tensor(x, requires_grad=True) for x in (a, p, n))
    loss = triplet_loss(None, (A, P, N))
    basic = ((a - p) ** 2).sum(-1) - ((a - n) ** 2).sum(-1) + 0.2
    assert basic[0] < 0 < basic[1] and basic[2] > 0
    assert loss.item() == pytest.approx(np.maximum(basic, 0).sum(), rel=1e-14)
    loss.backward()
    on = (basic > 0)[:, None]
    np.testing.assert_allclose(A.grad, on * (2 * (n - p)), rtol=1e-13)
    np.testing.assert_allclose(P.grad, on * (-2 * (a - p)), rtol=1e-13)
    np.testing.assert_allclose(N.grad, on * (2 * (a - n)), rtol=1e-13)


def gram_matrix(A):
    return np.matmul(A, np.transpose(A))


def compute_content_cost(a_C, a_G):
    m, n_H, n_W, n_C = a_G.shape
    a_C_unrolled = np.reshape(a_C, [m, -1, n_C])
    a_G_unrolled = np.reshape(a_G, [m, -1, n_C])
    return np.sum(np.square(a_C_unrolled - a_G_unrolled)) / (4.0 * n_H * n_W * n_C)


def compute_layer_style_cost(a_S, a_G):
    m, n_H, n_W, n_C = a_G.shape
    a_S = np.transpose(np.reshape(a_S, [-1, n_C]))
    a_G = np.transpose(np.reshape(a_G, [-1, n_C]))
    GS, GG = gram_matrix(a_S), gram_matrix(a_G)
    return np.sum(np.square(GS - GG)) / (4.0 * ((n_H * n_W * n_C) ** 2))


def test_style_transfer_costs_are_the_formulas_and_adam_optimises_the_image_itself():
    rng = np.random.default_rng(0)
    content, style = rng.random((1, 6, 6, 3)), rng.random((1, 6, 6, 3))
    conv = nn.Conv2d(3, 4, 3, rng=0)  # a frozen "VGG" layer
    conv.requires_grad_(False)
    a_C, a_S = conv(content).data, conv(style).data

    def total_cost(image, alpha=10, beta=40):
        a_G = gg.relu(conv(image))
        return alpha * compute_content_cost(np.maximum(a_C, 0), a_G) + beta * (
            compute_layer_style_cost(np.maximum(a_S, 0), a_G))

    a = rng.standard_normal((1, 4, 4, 2))
    g = gg.Tensor(rng.standard_normal((1, 4, 4, 2)), requires_grad=True)
    assert compute_content_cost(a, g).item() == pytest.approx(
        np.sum((a - g.data) ** 2) / (4 * 32), rel=1e-14)
    fa, fg = a.reshape(-1, 2).T, g.data.reshape(-1, 2).T
    assert compute_layer_style_cost(a, g).item() == pytest.approx(
        np.sum((fa @ fa.T - fg @ fg.T) ** 2) / (4 * 32 ** 2), rel=1e-13)
    assert gg.gradcheck(lambda g: compute_layer_style_cost(a, g), [g])

    generated_image = np.clip(content + rng.uniform(-0.25, 0.25, content.shape), 0.0, 1.0)
    generated_image = gg.Tensor(generated_image, requires_grad=True)  # tf.Variable
    optimizer = gg.optim.Adam([generated_image], lr=0.01)
    image, v, s = generated_image.data.copy(), 0.0, 0.0  # Adam by hand, in numpy
    costs = []
    for t in range(1, 21):  # train_step
        J = total_cost(generated_image)
        optimizer.zero_grad()
        J.backward()
        dimage = generated_image.grad
        optimizer.step()
        generated_image.data = np.clip(generated_image.data, 0.0, 1.0)  # .assign(clip_0_1(...))
        costs.append(J.item())
        v = 0.9 * v + 0.1 * dimage
        s = 0.999 * s + 0.001 * dimage ** 2
        step = 0.01 * (v / (1 - 0.9 ** t)) / (np.sqrt(s / (1 - 0.999 ** t)) + 1e-8)
        image = np.clip(image - step, 0.0, 1.0)
        np.testing.assert_allclose(generated_image.data, image, rtol=1e-12, atol=1e-14)
    assert costs[-1] < 0.5 * costs[0]


# -- course 5, week 1: the dinosaur island character model's sample ----------------------------
def softmax(x):
    e_x = np.exp(x - np.max(x))
    return e_x / e_x.sum(axis=0)


def sample(parameters, char_to_ix, seed):
    Waa, Wax, Wya, by, b = (parameters[k] for k in ("Waa", "Wax", "Wya", "by", "b"))
    vocab_size, n_a = by.shape[0], Waa.shape[1]
    x, a_prev = np.zeros((vocab_size, 1)), np.zeros((n_a, 1))
    indices, idx, counter = [], -1, 0
    newline_character = char_to_ix["\n"]
    while idx != newline_character and counter != 50:
        a = np.tanh(np.dot(Wax, x) + np.dot(Waa, a_prev) + b)
        z = np.dot(Wya, a) + by
        y = softmax(z)
        np.random.seed(counter + seed)
        idx = np.random.choice(range(len(y)), p=y.ravel())
        indices.append(idx)
        x = np.zeros((vocab_size, 1))
        x[idx] = 1
        a_prev = a
        seed += 1
        counter += 1
    if counter == 50:
        indices.append(char_to_ix["\n"])
    return indices


def test_sample_on_tensor_parameters_prints_the_courses_indices_under_no_grad():
    np.random.seed(24)
    n_a, vocab_size = 100, 27
    parameters = {}
    for name, shape in (("Wax", (n_a, vocab_size)), ("Waa", (n_a, n_a)),
                        ("Wya", (vocab_size, n_a)), ("b", (n_a, 1)), ("by", (vocab_size, 1))):
        parameters[name] = gg.Tensor(np.random.randn(*shape), requires_grad=True, name=name)
    char_to_ix = {c: i for i, c in enumerate("\nabcdefghijklmnopqrstuvwxyz")}
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy asked for the values of .*requires "
                       r"grad.*under gg\.no_grad\(\)"):
        sample(parameters, char_to_ix, 0)  # y.ravel() as np.random.choice's p: no gradient
    with gg.no_grad():
        indices = sample(parameters, char_to_ix, 0)
    assert indices == [23, 16, 26, 26, 24, 3, 21, 1, 7, 24, 15, 3, 25, 20, 6, 13, 10, 8, 20, 12,
                       2, 0]  # the course's "list of sampled indices"


# -- course 5, week 1: the RNN and LSTM cells by hand, and nn's with the course's parameters ---
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    Wf, bf, Wi, bi, Wc, bc, Wo, bo, Wy, by = (parameters[k] for k in (
        "Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo", "Wy", "by"))
    concat = np.concatenate((a_prev, xt))
    ft = sigmoid(np.dot(Wf, concat) + bf)
    it = sigmoid(np.dot(Wi, concat) + bi)
    cct = np.tanh(np.dot(Wc, concat) + bc)
    c_next = ft * c_prev + it * cct
    ot = sigmoid(np.dot(Wo, concat) + bo)
    a_next = ot * np.tanh(c_next)
    yt_pred = softmax(np.dot(Wy, a_next) + by)
    return a_next, c_next, yt_pred


def test_the_courses_lstm_cell_on_tensors_prints_its_values_and_is_nn_lstmcell():
    """Loading the course's parameters into nn.LSTMCell refused its column biases (5, 1) with
    'build the model with the same layers and sizes as the one that was saved', which it was;
    it now says they are the same numbers in another shape, and how to pass them."""
    np.random.seed(1)
    xt, a_prev, c_prev = (gg.Tensor(np.random.randn(n, 10), requires_grad=True)
                          for n in (3, 5, 5))
    parameters = {}
    for name, shape in (("Wf", (5, 8)), ("bf", (5, 1)), ("Wi", (5, 8)), ("bi", (5, 1)),
                        ("Wo", (5, 8)), ("bo", (5, 1)), ("Wc", (5, 8)), ("bc", (5, 1)),
                        ("Wy", (2, 5)), ("by", (2, 1))):
        parameters[name] = gg.Tensor(np.random.randn(*shape), requires_grad=True, name=name)
    a_next, c_next, yt = lstm_cell_forward(xt, a_prev, c_prev, parameters)
    np.testing.assert_allclose(a_next.data[4], [-0.66408471, 0.0036921, 0.02088357, 0.22834167,
                                                -0.85575339, 0.00138482, 0.76566531, 0.34631421,
                                                -0.00215674, 0.43827275], atol=1e-8)
    np.testing.assert_allclose(c_next.data[2], [0.63267805, 1.00570849, 0.35504474, 0.20690913,
                                                -1.64566718, 0.11832942, 0.76449811, -0.0981561,
                                                -0.74348425, -0.26810932], atol=1e-8)
    np.testing.assert_allclose(yt.data[1], [0.79913913, 0.15986619, 0.22412122, 0.15606108,
                                            0.97057211, 0.31146381, 0.00943007, 0.12666353,
                                            0.39380172, 0.07828381], atol=1e-8)

    cell = nn.LSTMCell(3, 5)
    state = {ours: parameters[theirs].data for ours, theirs in (
        ("Wf", "Wf"), ("bf", "bf"), ("Wu", "Wi"), ("bu", "bi"), ("Wc", "Wc"), ("bc", "bc"),
        ("Wo", "Wo"), ("bo", "bo"))}
    with pytest.raises(nn.StateDictError, match=r"bf: the state has shape \(5, 1\), the model "
                       r"\(5,\): the same 5 numbers with another shape \(the course's biases "
                       r"are columns\): pass them as \.reshape\(5\)"):
        cell.load_state_dict(state)
    cell.load_state_dict({k: v.reshape(cell.state_dict()[k].shape) for k, v in state.items()})
    a, c = cell(xt.T, a_prev.T, c_prev.T)  # examples as rows
    np.testing.assert_allclose(a.data, a_next.data.T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(c.data, c_next.data.T, rtol=1e-12, atol=1e-15)
    weights = np.random.randn(5, 10)
    (a_next * weights + c_next).sum().backward()
    by_hand = [t.grad.copy() for t in (xt, a_prev, c_prev)]
    for t in (xt, a_prev, c_prev):
        t.grad = None
    (a * weights.T + c).sum().backward()
    for ours, theirs in zip(by_hand, (xt.grad, a_prev.grad, c_prev.grad)):
        np.testing.assert_allclose(theirs, ours, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(cell.Wu.grad, parameters["Wi"].grad, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(cell.bo.grad, parameters["bo"].grad.ravel(), rtol=1e-10,
                               atol=1e-14)
