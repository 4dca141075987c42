"""``check_module`` (a learner's whole nn.Module against labkit's trained one) and the notebooks' ``explore``."""

import pytest
import torch
from torch import nn

from labkit.course import exercises
from labkit.course.explorer import explore


class Ref(nn.Module):
    def __init__(self, noisy: bool = False):
        super().__init__()
        self.fc_in, self.fc_out, self.noisy = nn.Linear(3, 4), nn.Linear(4, 2), noisy

    def forward(self, x):
        y = self.fc_out(torch.relu(self.fc_in(x)))
        return (y + torch.randn_like(y), y) if self.noisy else y


class NoRelu(Ref):
    def forward(self, x):
        return self.fc_out(self.fc_in(x))


class Renamed(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc_out = nn.Linear(3, 4), nn.Linear(4, 2)


class Wide(Ref):
    def __init__(self):
        super().__init__()
        self.fc_in, self.fc_out = nn.Linear(3, 5), nn.Linear(5, 2)


class Stub(nn.Module):
    def __init__(self):
        raise NotImplementedError("Exercise: write your solution here")


@pytest.fixture
def ref():
    torch.manual_seed(0)
    return Ref().eval()


X = (torch.randn(5, 3),)


def test_a_correct_module_passes_with_the_trained_weights_and_is_returned(ref, capsys):
    mine = exercises.check_module("toy", Ref, ref, [X])
    assert isinstance(mine, Ref) and mine is not ref
    assert torch.equal(mine.fc_in.weight, ref.fc_in.weight)  # the trained weights were loaded into it
    assert "passed" in capsys.readouterr().out


def test_the_message_names_the_first_submodule_whose_output_differs(ref, capsys):
    assert exercises.check_module("toy", NoRelu, ref, [X]) is ref
    out = capsys.readouterr().out
    assert "output of `fc_out`" in out and "fc_in" not in out.split("differs")[1][:40]


@pytest.mark.parametrize(("build", "says"), [
    (Renamed, "no parameter `fc_in.weight` of shape (4, 3)"),
    (Wide, "`fc_in.weight` has shape (5, 3), the trained one (4, 3)"),
    (Stub, "not solved yet"),
])
def test_wrong_names_shapes_and_stubs_fall_back_to_labkits_module(ref, capsys, build, says):
    assert exercises.check_module("toy", build, ref, [X]) is ref
    assert says in capsys.readouterr().out


def test_sampling_modules_are_compared_from_the_same_random_state(capsys):
    torch.manual_seed(1)
    noisy = Ref(noisy=True).train()
    mine = exercises.check_module("noisy", lambda: Ref(noisy=True), noisy, [X, (torch.zeros(2, 3),)])
    assert mine is not noisy and mine.training
    assert "passed (2 cases" in capsys.readouterr().out


def test_explore_draws_the_static_view_and_no_widgets_headless(monkeypatch, capsys):
    monkeypatch.setenv("LABKIT_HEADLESS", "1")
    seen = []
    assert explore(lambda a=0, b=1: seen.append((a, b)), {"a": (0, 5), "b": (0, 3)}, {"a": 2}) is None
    assert seen == [(2, 1)] and "static view only" in capsys.readouterr().out


def test_explore_refuses_a_static_value_without_a_control():
    with pytest.raises(ValueError, match=r"\['c'\] have no control"):
        explore(lambda a=0: None, {"a": (0, 5)}, {"c": 1})
