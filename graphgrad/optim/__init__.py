"""graphgrad.optim: optimizers (SGD with the course's momentum or Nesterov's, RMSprop, Adam,
AdamW, Adagrad, and PyTorch's Adamax, NAdam, RAdam, Adadelta, Rprop and ASGD, on the base
class `Optimizer`, which keeps parameter groups and state; and LBFGS, which steps with a
closure), learning-rate schedules (``optim.schedules``, ReduceOnPlateau among them, and
LRScheduler, which steps any of them as PyTorch's schedulers step) and gradient clipping
(``optim.clipping``)."""
from graphgrad.optim import schedules
from graphgrad.optim.classic import ASGD, Rprop
from graphgrad.optim.clipping import clip_grad_norm, clip_grad_value
from graphgrad.optim.lbfgs import LBFGS
from graphgrad.optim.optimizer import Optimizer
from graphgrad.optim.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop
from graphgrad.optim.schedules import (
    Chain,
    ConstantWarmup,
    CosineDecay,
    CosineWarmRestarts,
    Cyclic,
    ExponentialDecay,
    InverseSqrtDecay,
    InverseTimeDecay,
    LambdaSchedule,
    LinearSchedule,
    LRScheduler,
    MultiStepDecay,
    OneCycle,
    PolynomialDecay,
    ReduceOnPlateau,
    Schedule,
    StepDecay,
    Warmup,
)
from graphgrad.optim.variants import Adadelta, Adamax, NAdam, RAdam

__all__ = [
    "ASGD", "LBFGS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Chain",
    "ConstantWarmup", "CosineDecay", "CosineWarmRestarts", "Cyclic", "ExponentialDecay",
    "InverseSqrtDecay", "InverseTimeDecay", "LRScheduler", "LambdaSchedule", "LinearSchedule",
    "MultiStepDecay", "NAdam", "OneCycle", "Optimizer", "PolynomialDecay", "RAdam", "RMSprop",
    "ReduceOnPlateau", "Rprop", "Schedule", "StepDecay", "Warmup", "clip_grad_norm",
    "clip_grad_value", "schedules",
]
