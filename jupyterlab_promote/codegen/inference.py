"""Inference for promoted projects: the input schema the train stage records, `predict` and `serve`.

- ``schema.py``: the train stage writes ``artifacts/schema.json`` from a real training batch (the feature tensor's
  trailing shape and dtype, column names when a DataFrame of that width fed it, the output's shape);
- ``predict.py``: ``python -m PKG predict --input FILE --output FILE`` through ``Trainer.predict`` and a
  ``BasePredictionWriter`` (sklearn projects: the estimator's ``predict``), chunk by chunk;
- ``serve.py``: ``python -m PKG serve``, a LitServe endpoint validating every request against the schema.

Generated only where the model's call is known: a torch model called with one tensor of a batch (in the mapped
loop, or in the loop a Fabric project keeps: batch_call.py, which also reads a hidden state threaded through the
calls, a tuple of outputs and full-batch training), a torch model the notebook tries on one example text
(example_chain.py: each row is one text, encoded and decoded by the notebook's own code), or a model a plain
(sklearn) project trains.
"""

from __future__ import annotations

import ast
import re

from ..stages.plan import Plan
from .call_site import unread_call
from .example_chain import ExampleChain, unpromoted_example
from .mlops import handed_on, stage_name, train_step_name
from .mode import RenderMode
from .model_output import model_built_inside_function
from .postprocessing import postprocessing
from .render import Unformatted, render


def inference_kind(plan: Plan, mode: RenderMode) -> str | None:
    """ "torch", "sklearn" or None (no predict/serve: ``inference_refusal`` says why); a torch model predicting
    from text (``mode.chain``) is "torch" too."""
    if mode.inference_refusal:
        return None
    return "torch" if mode.torch else "sklearn"


def inference_refusal(plan: Plan, mode: RenderMode) -> str:
    """Why the project gets no predict and serve, in words for its README; empty when it gets them. Decided once, by
    project._render_mode: generators read ``mode.inference_refusal``."""
    model, forward = mode.model_output, mode.example
    if model is None:
        inside = model_built_inside_function(plan)
        if inside:
            return f"{inside}, so no stage can save it (build the model in a `promote:model` cell)"
        return "no model step binds a model (tag the cell that builds it `promote:model`)"
    if train_step_name(plan) is None:
        return "the notebook has no train step"
    if not mode.torch:
        return ""
    if forward is None and mode.chain is not None:
        return "" if _saves_trained_model(plan, model) else f"the train step does not hand on the `{model}` it trains"
    if forward is None:
        why = unread_call(plan, model)
        example = unpromoted_example(plan, model)
        hint = f". Yet {example}: tag that cell (and the definitions it uses) `promote:evaluate`" if example else ""
        return (
            f"how the training loop calls `{model}` on one batch could not be read from the notebook"
            + (f": {why}" if why else "")
            + hint
        )
    if inference_call(forward) is None:
        return f"`{model}` is called on more than one tensor, and a row of a file is one"
    if not _saves_trained_model(plan, model):
        return f"the train step does not hand on the `{model}` it trains"
    return ""


def _saves_trained_model(plan: Plan, model: str) -> bool:
    """The train stage saves the model it trained (else the schema has no trained model to be recorded from)."""
    train = plan.step(train_step_name(plan))
    return train is not None and model in handed_on(plan, train)


def inference_call(example: dict) -> dict | None:
    """What predict and serve do with the example: ``input``, the one tensor of rows they feed, and ``forward``, the
    model called on it (``features``) down to the prediction; None when the model takes more than one tensor.

    A kept loop's example says both (batch_call: a hidden state starts from None, a tuple's first output is kept);
    a mapped loop's call is the model on its one argument.
    """
    if "forward" in example:
        return {"input": example["input"], "forward": example["forward"]}
    # one argument, not a count of commas: `x.view(x.shape[0], -1)` is one tensor
    call = ast.parse(f"model({example['arguments']})", mode="eval").body
    if len(call.args) != 1 or isinstance(call.args[0], ast.Starred):  # type: ignore[attr-defined]
        return None
    return {"input": example["arguments"], "forward": "model(features)"}


def inference_operations(plan: Plan, mode: RenderMode) -> list[tuple[str, str]]:
    """(operation, module) pairs for the generated ``__main__.py``."""
    which = inference_kind(plan, mode)
    if which is None:
        return []
    return [("predict", "predict"), ("serve", "serve")]


def schema_stage(plan: Plan, mode: RenderMode) -> str:
    """The stage after which the schema is recorded ("" for none): the notebook's train step, or the later step
    whose example prediction predict repeats (it may define what that example calls)."""
    if inference_kind(plan, mode) is None:
        return ""
    train = stage_name(train_step_name(plan))
    if mode.chain is None:
        return train
    order = [stage_name(step.name) for step in plan.steps]
    return max(train, mode.chain.stage, key=order.index)


def inference_readme(plan: Plan, mode: RenderMode, text_column: str | None) -> dict:
    """The README's context: whether it has a "Predict and serve" section, and what it says; ``text_column``:
    text_input_column's answer, which also picks drift's section."""
    which = inference_kind(plan, mode)
    return {
        "inference": which,
        "inference_refusal": mode.inference_refusal,
        "inference_stage": schema_stage(plan, mode),
        "inference_model": mode.model_output,
        "postprocess": postprocessing(plan, mode.model_output) if which == "torch" and not mode.chain else "none",
        "settings": plan.names.settings if plan.settings else "",
        "inference_text": (
            _text_readme(mode.chain, stage_name(train_step_name(plan)), mode.model_output)  # type: ignore[arg-type]
            if which and mode.chain
            else None
        ),
        # a scikit-learn pipeline that starts with a text vectorizer (text_input_column): drift compares texts
        "drift_text": text_column == "",
    }


def text_input_column(plan: Plan, mode: RenderMode) -> str | None:
    """The input column of a model predicting from text, so that drift compares texts too: the notebook's example's
    (``mode.chain``); "" for a scikit-learn pipeline that starts with a text vectorizer (one text per row: the
    column its schema records when it is trained); None for a model of features."""
    if inference_kind(plan, mode) is None:
        return None
    if mode.chain is not None:
        return mode.chain.column
    source = "\n".join(cell.cell.source for step in plan.steps for cell in step.cells)
    return "" if not mode.torch and starts_with_text_vectorizer(source) else None


_VECTORIZER = r"(?:\w+\.)*(?:Tfidf|Count|Hashing)Vectorizer\("
_BOUND_VECTORIZER = re.compile(rf"^[ \t]*(\w+)[ \t]*=[ \t]*{_VECTORIZER}", re.MULTILINE)
# a pipeline's first step: make_pipeline(FIRST, ...) or Pipeline([("name", FIRST), ...]) (steps= too)
_FIRST_STEP = r"(?:make_pipeline\(\s*|Pipeline\(\s*(?:steps\s*=\s*)?\[\s*\(\s*[\"'][^\"']*[\"']\s*,\s*)"


def starts_with_text_vectorizer(source: str) -> bool:
    """Whether ``source`` builds a scikit-learn pipeline whose first step is a text vectorizer, made in place or
    bound to a name first (``vec = TfidfVectorizer()``, ``make_pipeline(vec, clf)``)."""
    names = sorted({match.group(1) for match in _BOUND_VECTORIZER.finditer(source)})
    first = "|".join([_VECTORIZER, *(rf"{re.escape(name)}\s*[,)]" for name in names)])
    return re.search(rf"{_FIRST_STEP}(?:{first})", source) is not None


def _text_readme(chain: ExampleChain, model_stage: str, model: str) -> dict:
    """What the README says of a model predicting from text: its column, the notebook's cell, values it loads."""
    # the example goes into a shell command and JSON: only where it needs no quoting
    plain = re.fullmatch(r"[\w .,-]{1,40}", chain.value) is not None
    return {
        "column": chain.column,
        "where": chain.where,
        "example": chain.value if plain else "some text",
        "saved": chain.saved,
        "model_file": f"artifacts/{model_stage}/{model}.pt",
    }


def generate_inference(plan: Plan, mode: RenderMode) -> dict[str, str | Unformatted]:
    """The generated package's schema.py, predict.py and serve.py (none when inference_kind is None)."""

    which = inference_kind(plan, mode)
    if which is None:
        return {}
    package = plan.package
    context = {
        "package": package,
        "torch": which == "torch",
        "model_output": mode.model_output,
        "train_stage": schema_stage(plan, mode),
        "model_stage": stage_name(train_step_name(plan)) if which else "",
        "example": ({**mode.example, **inference_call(mode.example)} if which == "torch" and mode.example else None),
        # a text model's post-processing is the notebook's own decoding, inside its example
        "postprocess": (
            "notebook" if mode.chain else postprocessing(plan, mode.model_output) if which == "torch" else "none"
        ),
        "settings": plan.names.settings if plan.settings else "",
        "chain": mode.chain,
    }
    src = f"src/{package}"
    return {
        f"{src}/{name}.py": Unformatted(render(f"{name}.py.j2", **context), package)
        for name in ("schema", "predict", "serve")
    }
