"""The course's Transformer code in numpy (Sequence Models, week 4), and the helpers the
attention and Transformer tests share."""
import numpy as np


# -- the course's numpy code -----------------------------------------------------------------------
def softmax_numpy(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def scaled_dot_product_attention_numpy(q, k, v, mask=None):
    """The course's function: mask holds 1 where a query may attend, 0 where it may not."""
    matmul_qk = q @ np.swapaxes(k, -1, -2)
    scaled_attention_logits = matmul_qk / np.sqrt(k.shape[-1])
    if mask is not None:
        scaled_attention_logits = scaled_attention_logits + (1.0 - mask) * -1e9
    attention_weights = softmax_numpy(scaled_attention_logits)
    return attention_weights @ v, attention_weights


def layer_norm_numpy(x, gamma, beta, eps):
    mu = x.mean(axis=-1, keepdims=True)
    sigma2 = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(sigma2 + eps) + beta


def multi_head_attention_numpy(q_in, k_in, v_in, p, h, mask=None, dropped=None):
    """One head at a time: head i projects with rows i d_k .. (i + 1) d_k of each W.
    ``dropped`` (m, h, T_q, T_k), D / keep_prob, multiplies the weights that average the
    values (dropout on the weights); the weights returned are those before it."""
    m, T_q, d_model = q_in.shape
    d_k = d_model // h
    mask = None if mask is None else np.broadcast_to(mask, (m, h, T_q, k_in.shape[1]))
    heads, weights = [], []
    for i in range(h):
        rows = slice(i * d_k, (i + 1) * d_k)
        q = q_in @ p["query.W"][rows].T + p["query.b"][rows]
        k = k_in @ p["key.W"][rows].T + p["key.b"][rows]
        v = v_in @ p["value.W"][rows].T + p["value.b"][rows]
        out, w = scaled_dot_product_attention_numpy(q, k, v, None if mask is None else mask[:, i])
        if dropped is not None:
            out = (w * dropped[:, i]) @ v
        heads.append(out)
        weights.append(w)
    concat = np.concatenate(heads, axis=-1)
    return concat @ p["out.W"].T + p["out.b"], np.stack(weights, axis=1)


def encoder_layer_numpy(x, p, h, eps, mask=None):
    attention = {name.partition(".")[2]: value for name, value in p.items()
                 if name.startswith("self_attention.")}
    attn, _ = multi_head_attention_numpy(x, x, x, attention, h, mask)
    a = layer_norm_numpy(x + attn, p["norm1.gamma"], p["norm1.beta"], eps)
    hidden = np.maximum(a @ p["ffn.linear1.W"].T + p["ffn.linear1.b"], 0)
    ffn = hidden @ p["ffn.linear2.W"].T + p["ffn.linear2.b"]
    return layer_norm_numpy(a + ffn, p["norm2.gamma"], p["norm2.beta"], eps)


def decoder_layer_numpy(x, memory, p, h, eps, look_ahead=None, padding=None):
    """The course's DecoderLayer: masked self-attention, attention over the encoder's output,
    the feed-forward network, each added to its input and layer-normalised."""
    def sublayer(prefix):
        return {name.partition(".")[2]: value for name, value in p.items()
                if name.startswith(prefix + ".")}

    attn1, block1 = multi_head_attention_numpy(x, x, x, sublayer("self_attention"), h, look_ahead)
    q1 = layer_norm_numpy(attn1 + x, p["norm1.gamma"], p["norm1.beta"], eps)
    attn2, block2 = multi_head_attention_numpy(q1, memory, memory, sublayer("cross_attention"), h,
                                               padding)
    a2 = layer_norm_numpy(attn2 + q1, p["norm2.gamma"], p["norm2.beta"], eps)
    hidden = np.maximum(a2 @ p["ffn.linear1.W"].T + p["ffn.linear1.b"], 0)
    ffn = hidden @ p["ffn.linear2.W"].T + p["ffn.linear2.b"]
    return layer_norm_numpy(ffn + a2, p["norm3.gamma"], p["norm3.beta"], eps), block1, block2


def get_angles(pos, i, d):
    return pos / 10000 ** (2 * (i // 2) / d)


def positional_encoding_loop(positions, d):
    pe = np.zeros((positions, d))
    for pos in range(positions):
        for i in range(d):
            angle = get_angles(pos, i, d)
            pe[pos, i] = np.sin(angle) if i % 2 == 0 else np.cos(angle)
    return pe


def create_look_ahead_mask(sequence_length):
    """The course's: band_part(ones((1, T, T)), -1, 0), the lower triangle."""
    return np.tril(np.ones((1, sequence_length, sequence_length)))


def create_padding_mask(decoder_token_ids):
    """The course's: 1.0 for a word, 0.0 for the padding 0, shaped (m, 1, T)."""
    seq = 1.0 - (np.asarray(decoder_token_ids) == 0)
    return seq[:, np.newaxis, :]


# -- helpers for modules ---------------------------------------------------------------------------
def arrays_of(module):
    return {name: p.data for name, p in module.named_parameters()}


def randomise(module, rng):
    """Biases and beta start at zero, gamma at one: random ones make the comparisons see them."""
    for name, p in module.named_parameters():
        leaf = name.rpartition(".")[2]
        if leaf == "gamma":
            p.data = rng.uniform(0.5, 2.0, p.shape)
        elif leaf in ("b", "beta"):
            p.data = rng.standard_normal(p.shape) * 0.5


def of_inputs_and_parameters(module, n_inputs, **kwargs):
    """fn(*inputs, *parameters) that runs ``module`` with the parameters it is given."""
    names = [name for name, _ in module.named_parameters()]

    def fn(*args):
        for name, value in zip(names, args[n_inputs:]):
            owner = module
            *path, attr = name.split(".")
            for part in path:
                owner = getattr(owner, part)
            setattr(owner, attr, value)
        return module(*args[:n_inputs], **kwargs)

    return fn


def random_mask(rng, shape):
    """Random booleans with at least one key per query (a query with none is tested apart:
    the course's float64 code does not give it uniform weights)."""
    mask = rng.random(shape) < 0.6
    mask[..., rng.integers(shape[-1])] = True
    return mask


def assert_close_except_key_biases(result, module, n_inputs):
    """Every (output, input) pair of a gradcheck result close, except the key projections'
    biases: a key bias adds q . b_k to every score of query q, which softmax does not see, so
    its gradient is zero (up to rounding), which a relative difference cannot measure.
    ``module``'s parameters are the inputs after the first ``n_inputs``."""
    names = [name for name, _ in module.named_parameters()]
    key_biases = {n_inputs + i for i, name in enumerate(names) if name.endswith("key.b")}
    assert key_biases
    for pair in result.pairs:
        if pair.input in key_biases:
            assert abs(pair.analytic) < 1e-12 and abs(pair.numeric) < 1e-8
        else:
            assert pair.relative_difference < 1e-7, str(pair)
