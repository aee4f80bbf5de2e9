"""graphgrad.optim: optimizers (SGD with the course's momentum, RMSprop, Adam) and
learning-rate schedules (``optim.schedules``)."""
from graphgrad.optim import schedules
from graphgrad.optim.optimizers import SGD, Adam, Optimizer, RMSprop
from graphgrad.optim.schedules import (
    ExponentialDecay,
    InverseSqrtDecay,
    InverseTimeDecay,
    Schedule,
    StepDecay,
)

__all__ = [
    "SGD", "Adam", "ExponentialDecay", "InverseSqrtDecay", "InverseTimeDecay", "Optimizer",
    "RMSprop", "Schedule", "StepDecay", "schedules",
]
