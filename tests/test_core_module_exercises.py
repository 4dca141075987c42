"""The core-module exercises (#19): the learner's nn.Module, read from the notebook's text source, checked against
the shipped trained weights — the solution passes, the student stub is unsolved, a classic mistake is caught and
named. And each notebook's explorer callback, driven directly."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from labkit.course.student import strip_solutions

ROOT = Path(__file__).resolve().parents[1]
PRELUDE = "import torch\nimport torch.nn.functional as F\nfrom labkit.models.ram import RAM, Retina\n"


def _ram_exercise(student: bool = False, replace: tuple[str, str] | None = None) -> str:
    s = (ROOT / "notebooks" / "04_ram.py").read_text()
    code = s[s.index("class GlimpseNet(torch.nn.Module)"):s.index("def with_your_modules")]
    if replace:
        assert replace[0] in code
        code = code.replace(*replace)
    return PRELUDE + (strip_solutions(code) if student else code)


def _statuses(code: str, capsys) -> str:
    exec(compile(code, "04_ram.py", "exec"), {})
    return capsys.readouterr().out


def test_ram_modules_solution_passes_against_the_trained_checkpoint(capsys):
    out = _statuses(_ram_exercise(), capsys)
    assert out.count("passed") == 2, out


def test_ram_modules_student_stubs_are_unsolved(capsys):
    out = _statuses(_ram_exercise(student=True), capsys)
    assert out.count("not solved yet") == 2, out


@pytest.mark.parametrize(("mistake", "named"), [
    # no ReLU after θ_l: the first layer whose output differs is `where`
    (("self.where(F.relu(self.fc_loc(l_prev)))", "self.where(self.fc_loc(l_prev))"), "output of `where`"),
    # clamping before taking log π changes only what forward does with correct layer outputs
    (("log_pi = torch.distributions.Normal(mu, self.std).log_prob(l_t).sum(dim=1)",
      "log_pi = torch.distributions.Normal(mu, self.std).log_prob(l_t.clamp(-1.0, 1.0)).sum(dim=1)"),
     "every submodule's output matches"),
])
def test_ram_modules_classic_mistakes_are_caught_and_located(capsys, mistake, named):
    out = _statuses(_ram_exercise(replace=mistake), capsys)
    assert "✘" in out and named in out, out


def _memnet_exercise(student: bool = False, replace: tuple[str, str] | None = None) -> str:
    s = (ROOT / "notebooks" / "01_memnet_caffe_port.py").read_text()
    code = s[s.index("class TinyMemNet(torch.nn.Module)"):s.index("with torch.inference_mode():\n    mine_out")]
    if replace:
        assert replace[0] in code
        code = code.replace(*replace)
    code = code.replace("# NBVAL_CHECK_OUTPUT", "")
    prelude = ("import numpy as np\nimport torch\nimport torch.nn.functional as F\nimport labkit\n"
               "from labkit.caffe import load_caffe_model\n"
               "from labkit.caffe.layers import lrn_across_channels\n")
    return prelude + (strip_solutions(code) if student else code)


@pytest.mark.parametrize(("student", "mistake", "says"), [
    (False, None, "passed (2 cases"),
    (True, None, "not solved yet"),
    (False, ("self.conv4 = torch.nn.Conv2d(48, 48, 3, padding=1, groups=2)",
             "self.conv4 = torch.nn.Conv2d(48, 48, 3, padding=1)"),
     "`conv4.weight` has shape (48, 48, 3, 3), the trained one (48, 24, 3, 3)"),
    (False, ("return lrn_across_channels(t, 5, 1e-4, 0.75, 1.0)", "return t"), "output of `conv2`"),
])
def test_memnet_trunk_exercise(capsys, student, mistake, says):
    out = _statuses(_memnet_exercise(student, mistake), capsys)
    assert says in out, out


def test_ram_explorer_draws_a_trained_path_step_by_step():
    from labkit.models import ram_pretrained as zoo
    from labkit.viz.glimpses import glimpse_step_figure

    net = zoo.load_pretrained("translated")
    x, y = zoo.splits("translated")["test"].tensors()
    fig = glimpse_step_figure(net, x[:10], y[:10], index=3, step=2)
    assert len(fig.axes) == 1 + net.retina.k and "glimpses 0–1" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="step in 1..6"):
        glimpse_step_figure(net, x[:10], y[:10], index=3, step=7)


def _resmem_exercise(student: bool = False, replace: tuple[str, str] | None = None) -> str:
    s = (ROOT / "notebooks" / "02_resmem.py").read_text()
    code = s[s.index("class MemHead(torch.nn.Module)"):s.index("# %% [markdown]\n# ## 3 ·")]
    if replace:
        assert replace[0] in code
        code = code.replace(*replace)
    prelude = ("import numpy as np\nimport torch\nfrom labkit.models import resmem as R\nmodel = R.load_pretrained()\n"
               "cache = np.load(__import__('labkit').asset_path('resmem/features.npz'))\n"
               "alex, res = cache['alex'].astype(np.float32), cache['resnet'].astype(np.float32)\n")
    return prelude + (strip_solutions(code) if student else code).replace("# NBVAL_CHECK_OUTPUT", "")


@pytest.mark.parametrize(("student", "mistake", "says"), [
    (False, None, "passed (2 cases"),
    (True, None, "not solved yet"),
    (False, ("h = torch.cat([alex, res], dim=1)", "h = torch.cat([res, alex], dim=1)"), "output of `fc6`"),
])
def test_resmem_head_exercise_against_the_published_weights(capsys, student, mistake, says):
    out = _statuses(_resmem_exercise(student, mistake), capsys)
    assert says in out, out


def test_edit_image_crops_where_asked_and_refuses_bad_edits():
    from PIL import Image

    from labkit.data.images import edit_image

    img = Image.fromarray(np.arange(100 * 200 * 3, dtype=np.uint8).reshape(100, 200, 3) % 255)
    assert edit_image(img, zoom=2.0).size == (100, 50)
    left = np.asarray(edit_image(img, zoom=2.0, dx=-1.0, dy=-1.0))
    assert np.array_equal(left, np.asarray(img)[:50, :100])
    assert np.array_equal(np.asarray(edit_image(img)), np.asarray(img))
    with pytest.raises(ValueError, match="zoom >= 1"):
        edit_image(img, zoom=0.5)


def _video_exercise(student: bool = False, replace: tuple[str, str] | None = None) -> str:
    s = (ROOT / "notebooks" / "05_attention_lstm_video.py").read_text()
    code = s[s.index("from torch.nn.utils.rnn import pack_padded_sequence"):s.index("def with_your_encoder")]
    if replace:
        assert replace[0] in code
        code = code.replace(*replace)
    prelude = ("import torch\nfrom labkit.data import yt8m\nfrom labkit.models import attention_lstm_pretrained as zoo\n"
               "from labkit.models.attention_ops import masked_softmax\nbundled = True\n"
               "batch = yt8m.collate_frames(zoo.preload(zoo.event_dataset('test'), 6))\n")
    return prelude + (strip_solutions(code) if student else code).replace("# NBVAL_CHECK_OUTPUT", "")


@pytest.mark.parametrize(("student", "mistake", "says"), [
    (False, None, "passed (2 cases"),
    (True, None, "not solved yet"),
    # no packing: the backward LSTM starts on the padding of the shorter videos
    (False, ("h, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=x.shape[1])",
             "h = self.lstm(e)[0]"), "output of `lstm`"),
])
def test_attention_pooling_exercise_against_the_shipped_checkpoint(capsys, student, mistake, says):
    out = _statuses(_video_exercise(student, mistake), capsys)
    assert says in out, out
