"""Parameters are read from the annotated parameters cell and checked before anything runs."""

from pathlib import Path

import pytest

from labkit.course.params import Param, ParameterError, parse_cli_value, read_params, type_matches, validate

FIX = Path(__file__).parent / "fixtures"


def test_reads_types_defaults_help_and_choices():
    params = read_params(FIX / "params_ok.ipynb")
    assert list(params) == ["profile", "data_root", "steps", "rate", "names"]
    assert params["steps"] == Param("steps", "int", 2, "how many steps")
    assert params["data_root"].type == "Optional[str]" and params["data_root"].default is None
    assert params["profile"].choices == ("quick", "full")


@pytest.mark.parametrize("value, annotation, ok", [
    (3, "int", True), (True, "int", False), (3.0, "int", False), (3, "float", True), ("3", "float", False),
    (None, "Optional[str]", True), ("x", "Optional[str]", True), (1, "Optional[str]", False),
    ([1, 2], "list[int]", True), ([1, "a"], "list[int]", False), ((1, 2), "tuple[int, int]", True),
    (None, "int | None", True), (False, "bool", True), (0, "bool", False),
])
def test_type_matching(value, annotation, ok):
    assert type_matches(value, annotation) is ok


def test_cli_strings_become_typed_values():
    params = read_params(FIX / "params_ok.ipynb")
    assert parse_cli_value("5", params["steps"]) == 5
    assert parse_cli_value("5", params["rate"]) == 5.0 and isinstance(parse_cli_value("5", params["rate"]), float)
    assert parse_cli_value("None", params["data_root"]) is None
    assert parse_cli_value("/data/lamem", params["data_root"]) == "/data/lamem"
    assert parse_cli_value("123", params["data_root"]) == "123"  # a folder may be called 123
    assert parse_cli_value('["x", "y"]', params["names"]) == ["x", "y"]
    with pytest.raises(ParameterError, match="'steps' expects int, got '1.5'"):
        parse_cli_value("1.5", params["steps"])
    with pytest.raises(ParameterError, match="must be one of quick, full"):
        parse_cli_value("medium", params["profile"])


def test_unknown_parameter_names_the_closest_one():
    params = read_params(FIX / "params_ok.ipynb")
    with pytest.raises(ParameterError, match="no parameter 'step'. Did you mean 'steps'"):
        validate(params, {"step": 3}, "params_ok.ipynb")
    with pytest.raises(ParameterError, match="expects int"):
        validate(params, {"steps": "three"})


def test_parameters_cell_must_be_annotated(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("epochs = 3  # no annotation")
    cell.metadata["tags"] = ["parameters"]
    nb.cells.append(cell)
    nbformat.write(nb, tmp_path / "bad.ipynb")
    with pytest.raises(ParameterError, match="name: type = value"):
        read_params(tmp_path / "bad.ipynb")
    cell.source = "epochs: int = 3  # a = b confuses papermill"
    nbformat.write(nb, tmp_path / "bad.ipynb")
    with pytest.raises(ParameterError, match="leave '=' out"):
        read_params(tmp_path / "bad.ipynb")
    cell.metadata["tags"] = []
    nbformat.write(nb, tmp_path / "bad.ipynb")
    with pytest.raises(ParameterError, match="no code cell is tagged 'parameters'"):
        read_params(tmp_path / "bad.ipynb")
