"""What a gradient check found: a `PairCheck` per (output, input), gathered in a
`GradcheckResult` that prints as the report, and `GradcheckError` raising it. Depends on
`errors`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from graphgrad.errors import GraphgradError


class GradcheckError(GraphgradError, AssertionError):
    """A gradient check failed; ``.result`` holds the full `GradcheckResult`."""

    def __init__(self, result: GradcheckResult) -> None:
        super().__init__(str(result))
        self.result = result


def reading(difference: float) -> str:
    """The course's reading of ||g - g_num|| / (||g|| + ||g_num||)."""
    if difference <= 1e-7:
        return "great"
    if difference <= 1e-5:
        return "fine, look closer if it should be exact"
    if difference <= 1e-3:
        return "suspicious: look closer"
    return "likely a bug"


@dataclass
class JointKink:
    """Elements at kinks that bend the same way, moved together: their analytic gradients must
    sum to a value between the one-sided slopes along that joint direction."""

    indices: tuple[tuple[int, ...], ...]
    left: float
    right: float
    total: float
    passed: bool

    def __str__(self) -> str:
        elements = ", ".join(map(str, self.indices))
        verdict = "agree" if self.passed else "disagree"
        text = (f"elements {elements} sit at kinks together: their gradients together {verdict} "
                f"with the slope along them (moving them together has one-sided slopes "
                f"{self.left:.4g} and {self.right:.4g}; their analytic gradients sum to "
                f"{self.total:.4g})")
        if not self.passed:
            text += ("; at a tie, the gradient is shared between the tied elements or given to "
                     "one of them, not given in full to each")
        return text


@dataclass
class PairCheck:
    """How d(output)/d(input) compares, for one (output, input) pair."""

    output: int
    input: int
    input_label: str
    passed: bool
    relative_difference: float
    worst_index: tuple[int, ...] | None = None
    analytic: float = 0.0
    numeric: float = 0.0
    abs_error: float = 0.0
    rel_error: float = 0.0
    mismatches: int = 0
    size: int = 0
    kinks: list[tuple[tuple[int, ...], float, float, float]] = field(default_factory=list)
    #: Elements within eps of a kink but not at it: (index, numeric slope used).
    near_kinks: list[tuple[tuple[int, ...], float]] = field(default_factory=list)
    #: Kinks checked together, one group per way of bending (elements alone may each pass).
    joint_kinks: list[JointKink] = field(default_factory=list)
    #: Elements where the function itself jumps, so it has no derivative there: (index, left
    #: slope, right slope, analytic value). Not compared.
    jumps: list[tuple[tuple[int, ...], float, float, float]] = field(default_factory=list)
    projected: bool = False
    #: Both gradients within atol of 0 in every element compared, where the course's
    #: relative difference (a ratio of two tiny norms) reads nothing.
    about_zero: bool = False
    nonfinite: int = 0
    #: What holds no elements, when the output or the input does: then there is no
    #: derivative to check, and the pair passes with nothing checked.
    empty: str = ""

    def __str__(self) -> str:
        head = f"output {self.output} wrt input {self.input} {self.input_label}:"
        if self.empty:
            return f"{head} nothing to check: {self.empty}"
        if self.projected:
            return (f"{head} random projection: analytic {self.analytic:.6g} vs numeric "
                    f"{self.numeric:.6g} ({'ok' if self.passed else 'MISMATCH'})")
        meaning = ("both gradients are within atol of 0 in every element, so the ratio of "
                   "their tiny norms reads nothing; give a smaller atol to compare them"
                   if self.about_zero else reading(self.relative_difference))
        text = f"{head} relative difference {self.relative_difference:.2e} ({meaning})"
        if self.mismatches:
            text += f"; {self.mismatches} of {self.size} elements disagree"
        if self.nonfinite:
            text += (f"; {self.nonfinite} derivative(s) are NaN or Inf (is an input within eps "
                     "of the edge of the function's domain, such as log near 0?)")
        if self.worst_index is not None:
            text += (f"; worst element {self.worst_index}: analytic {self.analytic:.6g} vs "
                     f"numeric {self.numeric:.6g} (abs err {self.abs_error:.2e}, rel err "
                     f"{self.rel_error:.2e})")
        for index, left, right, value in self.kinks[:3]:
            text += (f"\n    element {index} sits at a kink: one-sided slopes {left:.4g} and "
                     f"{right:.4g}; the analytic {value:.4g} is a valid subgradient, not a bug")
        if len(self.kinks) > 3:
            text += f"\n    ... and {len(self.kinks) - 3} more elements at kinks"
        for index, value in self.near_kinks[:3]:
            text += (f"\n    element {index} is near a kink, within eps of it: the centred "
                     f"difference straddles it, so the numeric value {value:.4g} is the slope "
                     "on the side away from the kink")
        if len(self.near_kinks) > 3:
            text += f"\n    ... and {len(self.near_kinks) - 3} more elements near kinks"
        for joint in self.joint_kinks:
            if not joint.passed:
                text += f"\n    {joint}"
        for index, left, right, value in self.jumps[:3]:
            text += (f"\n    element {index} sits at a jump: output {self.output} jumps there "
                     f"(one-sided slopes {left:.4g} and {right:.4g} double when the step is "
                     f"halved), so it has no derivative wrt input {self.input} to check the "
                     f"analytic {value:.4g} against; move the point off the jump to check it")
        if len(self.jumps) > 3:
            text += f"\n    ... and {len(self.jumps) - 3} more elements at jumps"
        return text


@dataclass
class GradcheckResult:
    """Truthy when the check passed; ``str()`` gives the readable report."""

    passed: bool
    pairs: list[PairCheck]
    zero_grad_failures: list[str]
    settings: str
    note: str = ""
    #: Labels of checked inputs that no output's graph contains (their gradient is zero by
    #: construction, so their check proves nothing).
    unreached: list[str] = field(default_factory=list)
    #: gradgradcheck: where a first derivative under ``create_graph=True`` differs from the
    #: plain backward's (a backward body whose Tensor path computes another derivative).
    create_graph_failures: list[str] = field(default_factory=list)
    #: The check that made it, which the report names: "gradcheck" or "gradgradcheck".
    checker: str = "gradcheck"

    def __bool__(self) -> bool:
        return self.passed

    def failures(self) -> list[PairCheck]:
        """The (output, input) pairs whose analytic and numerical gradients disagree; [] when
        every pair passed."""
        return [p for p in self.pairs if not p.passed]

    def __str__(self) -> str:
        lines = [f"{self.checker} {'passed' if self.passed else 'FAILED'} ({self.settings})"]
        if self.note:
            lines.append(f"  {self.note}")
        lines += [f"  {p}" for p in self.pairs]
        lines += [f"  {_unreached_message(label)}" for label in self.unreached]
        lines += [f"  {failure}" for failure in self.create_graph_failures]
        if self.zero_grad_failures:
            lines += [f"  zero upstream gradient gave a non-zero gradient for {w}"
                      for w in self.zero_grad_failures]
        else:
            lines.append("  a zero upstream gradient gives a zero gradient: yes")
        return "\n".join(lines)


def _unreached_message(label: str) -> str:
    return (
        f"input {label} is not part of any output's graph, so its analytic gradient is zero "
        "by construction. If fn uses it, it does so off the graph (through .data, detach() or "
        "no_grad), or uses another tensor in its place: gradcheck calls fn with float64 "
        "copies of the inputs, so a function that closes over the originals (a model's own "
        "parameters) checks nothing."
    )
