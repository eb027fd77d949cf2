import pytest

from jupyterlab_promote.analysis.roles import directive, parse_tag, role_tags


@pytest.mark.parametrize(
    ("tag", "role", "step", "source"),
    [
        ("parameters", "parameters", None, "tag"),
        ("pipeline-parameters", "parameters", None, "kale"),
        ("promote:imports", "imports", None, "tag"),
        ("imports", "imports", None, "kale"),
        ("promote:functions", "functions", None, "tag"),
        ("functions", "functions", None, "kale"),
        ("promote:data", "data", None, "tag"),
        ("promote:preprocess", "preprocess", None, "tag"),
        ("promote:model", "model", None, "tag"),
        ("promote:train", "train", None, "tag"),
        ("promote:evaluate", "evaluate", None, "tag"),
        ("pipeline-metrics", "evaluate", None, "kale"),
        ("promote:export", "export", None, "tag"),
        ("promote:skip", "skip", None, "tag"),
        ("skip", "skip", None, "kale"),
        ("step:featurize", "step", "featurize", "kale"),
        ("block:load-data", "step", "load_data", "kale"),
    ],
)
def test_every_tag_of_the_vocabulary(tag, role, step, source):
    parsed = parse_tag(tag)
    assert (parsed.role, parsed.step, parsed.source) == (role, step, source)


def test_unrelated_tags_are_ignored_and_unknown_promote_tags_reported():
    found, unknown = role_tags(["hide-input", "prev:load", "promote:trian"], "x = 1")
    assert found == [] and unknown == ["promote:trian"]


def test_directive_comment_on_first_line():
    assert directive("# promote: model\nnet = Net()") == "promote:model"
    assert directive("# promote: parameters\nlr = 1") == "parameters"
    found, _ = role_tags([], "# promote: train\nfit()")
    assert found[0].role == "train" and found[0].source == "directive"
    assert directive("x = 1\n# promote: model") is None


def test_a_notebook_without_tags_is_told_which_tags_its_code_suggests(tmp_path):
    from jupyterlab_promote import api

    from .helpers import TINY_TORCH, write_notebook

    untagged = [cell if isinstance(cell, str) else cell[0] for cell in TINY_TORCH]
    plan = api.analyze(write_notebook(tmp_path / "untagged.ipynb", untagged))
    [refusal] = [d for d in plan.diagnostics if d.code == "PRM018"]
    ids = {c.cell.index: c.cell.id for c in plan.cells}
    # the panel's "Looks like …" hints, said by the CLI too: one tag per role, the cells in notebook order
    assert refusal.message.endswith(
        f"; from their code: promote:data on cell 2 (id {ids[2]}); promote:model on cell 3 (id {ids[3]});"
        f" promote:train on cell 4 (id {ids[4]}); promote:evaluate on cell 5 (id {ids[5]})"
    ), refusal.message
