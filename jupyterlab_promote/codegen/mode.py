"""How a plan is generated: decided once by ``generate`` and passed explicitly to every generator, as black passes
its ``Mode``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..stages.plan import Plan
from .example_chain import ExampleChain


class Runtime(StrEnum):
    """What the generated package runs on."""

    PLAIN = "plain"  # no torch
    FABRIC = "fabric"  # torch code kept as written, on Lightning Fabric
    LIGHTNING = "lightning"  # a mapped training loop, or a notebook already on Lightning

    @property
    def torch(self) -> bool:
        return self is not Runtime.PLAIN


def runtime_kind(plan: Plan) -> Runtime:
    """The runtime the plan needs: Lightning for a mapped loop, Fabric for other torch code, plain without torch."""
    if plan.loop is not None or plan.lightning:
        return Runtime.LIGHTNING
    return Runtime.FABRIC if plan.torch else Runtime.PLAIN


@dataclass(frozen=True)
class RenderMode:
    runtime: Runtime
    model_step: str | None = None  # the step that builds the model
    model_output: str | None = None  # the name that step binds the model to
    seed_lines: tuple[str, ...] = ()  # the notebook's seeding, as the generated code does it
    example: dict | None = None  # how the model is called on one training batch (forward test, export, predict)
    chain: ExampleChain | None = None  # without an example: the notebook's own example prediction (predict, serve)
    inference_refusal: str = ""  # why the project gets no predict and serve (inference.inference_refusal); "": it does

    @property
    def torch(self) -> bool:
        return self.runtime.torch
