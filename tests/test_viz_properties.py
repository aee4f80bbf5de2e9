"""Property test (hypothesis): any random composition, its steps in random name scopes, is
drawn whole: an op box per node, one blue edge per input and per output, red edges numbered
1..K in backprop order, every leaf showing its own dvar, and one animation frame per backward
step after the forward pass."""
import re
from collections import Counter

import numpy as np
from graph_walks import graph_nodes
from hypothesis import given
from hypothesis import strategies as st
from random_programs import programs, run_program
from viz_helpers import edges, node_ids, node_label

import graphgrad as gg
import viz
from viz import labels

SCOPES = st.sampled_from(["", "layer1", "layer1/linear", "cost"])


@given(program=programs(), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_random_graphs_are_drawn_whole(program, data, seed):
    shape, n_inputs, steps = program
    scopes = data.draw(st.lists(SCOPES, min_size=len(steps), max_size=len(steps)))
    rng = np.random.default_rng(seed)
    inputs = [gg.Tensor(rng.standard_normal(shape), requires_grad=True, name=f"x{i}")
              for i in range(n_inputs)]
    out = run_program(steps, *inputs, scopes=scopes)
    J = (out * out).sum()
    J.backward()
    nodes = graph_nodes(J)

    # Labels whole and unmarked, so that each can be compared with its tensor's values.
    source = viz.to_dot(J, clusters=data.draw(st.booleans()), max_label_chars=200,
                        exploding_grad=np.inf)
    forward, backward = edges(source)
    assert len(forward) == sum(len(node.inputs) + 1 for node in nodes)
    op_names = dict(re.findall(r"^\s*(op\d+) \[label=<.*?<b>(\w+)</b>", source, re.MULTILINE))
    assert Counter(op_names.values()) == Counter(node.name for node in nodes)
    # Numbered 1..K in DOT order, and the K-th sent by the op that backprop ran then.
    numbered = [(int(text.split(":")[0]), op_names[tail]) for tail, _, text in backward if text]
    senders = [node.name for node in sorted(nodes, key=lambda node: node.backward_order)
               for t, g in zip(node.inputs, node.input_grads) if g is not None and t.requires_grad]
    assert numbered == list(enumerate(senders, start=1))
    ids = node_ids(source)
    for x in inputs:
        if x.grad is not None:
            rows = node_label(source, ids[x.name]).split(" | ")
            assert labels.assignment(f"d{x.name}", x.grad, 3, 4) in rows

    assert len(list(viz.backprop_frames(J))) == len(nodes) + 1
