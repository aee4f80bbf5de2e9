"""graphgrad.optim: optimizers (SGD with the course's momentum or Nesterov's, RMSprop, Adam,
AdamW, Adagrad, on the base class `Optimizer`, which keeps parameter groups and state),
learning-rate schedules (``optim.schedules``) and gradient clipping (``optim.clipping``)."""
from graphgrad.optim import schedules
from graphgrad.optim.clipping import clip_grad_norm, clip_grad_value
from graphgrad.optim.optimizer import Optimizer
from graphgrad.optim.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop
from graphgrad.optim.schedules import (
    CosineDecay,
    ExponentialDecay,
    InverseSqrtDecay,
    InverseTimeDecay,
    Schedule,
    StepDecay,
)

__all__ = [
    "SGD", "Adagrad", "Adam", "AdamW", "CosineDecay", "ExponentialDecay", "InverseSqrtDecay",
    "InverseTimeDecay", "Optimizer", "RMSprop", "Schedule", "StepDecay", "clip_grad_norm",
    "clip_grad_value", "schedules",
]
