"""The two environment descriptions agree, and the installed pair is the pinned, matching one."""

import re
import tomllib

from helpers import ROOT


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    return dict(re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", d).groups() for d in deps)


def _environment_yml_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.fullmatch(r"\s+- ([A-Za-z0-9_.\-\[\]]+)==(\S+)", line)
        if m:
            pins[m.group(1)] = m.group(2)
    return pins


def test_every_dependency_is_pinned_exactly():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for dep in project["dependencies"]:
        assert "==" in dep, f"{dep} is not pinned"


def test_environment_yml_matches_pyproject():
    assert _environment_yml_pins() == _pyproject_pins()
    assert "python=3.11" in (ROOT / "environment.yml").read_text()


def test_installed_torch_and_torchvision_are_the_pinned_matching_pair():
    import torch
    import torchvision
    from torchvision.ops import nms

    pins = _pyproject_pins()
    assert torch.__version__.split("+")[0] == pins["torch"]
    assert torchvision.__version__.split("+")[0] == pins["torchvision"]
    keep = nms(torch.tensor([[0.0, 0, 1, 1], [0, 0, 1, 1]]), torch.tensor([0.9, 0.8]), 0.5)
    assert keep.tolist() == [0]  # the compiled operator runs: the pair matches
