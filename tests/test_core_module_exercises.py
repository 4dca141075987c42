"""The core-module exercises (#19): the learner's nn.Module, read from the notebook's text source, checked against
trained weights — the solution passes, the student stub is unsolved, a classic mistake is caught and located.
And the explorers' figure functions, driven directly."""


import matplotlib.pyplot as plt
import numpy as np
import pytest
from helpers import ROOT

from labkit.course.student import strip_solutions

# notebook → (first line of the exercise code, the line the check ends before, what the cells above provide)
EXERCISES = {
    "01_memnet_caffe_port": (
        "class TinyMemNet(torch.nn.Module)", "with torch.inference_mode():\n    mine_out",
        "import numpy as np\nimport torch\nimport torch.nn.functional as F\nimport labkit\n"
        "from labkit.caffe import load_caffe_model\nfrom labkit.caffe.layers import lrn_across_channels\n"),
    "02_resmem": (
        "class MemHead(torch.nn.Module)", "# %% [markdown]\n# ## 3 ·",
        "import numpy as np\nimport torch\nimport labkit\nfrom labkit.models import resmem as R\n"
        "model = R.load_pretrained()\ncache = np.load(labkit.asset_path('resmem/features.npz'))\n"
        "alex, res = cache['alex'].astype(np.float32), cache['resnet'].astype(np.float32)\n"),
    "04_ram": (
        "class GlimpseNet(torch.nn.Module)", "def with_your_modules",
        "import torch\nimport torch.nn.functional as F\nfrom labkit.models.ram import RAM, Retina\n"),
    "05_attention_lstm_video": (
        "from torch.nn.utils.rnn import pack_padded_sequence", "def with_your_encoder",
        "import torch\nfrom labkit.data import event_videos, yt8m\nfrom labkit.models import attention_lstm_pretrained as zoo\n"
        "from labkit.models.attention_ops import masked_softmax\nbundled = True\n"
        "batch = yt8m.collate_frames(event_videos.preload(event_videos.event_dataset('test'), 6))\n"),
    "06_sa_lstm_captioning": (
        "class DecoderStep(torch.nn.Module)", "@torch.inference_mode()\ndef greedy_with",
        "import torch\nfrom labkit.data.captions import load_event_captions\nfrom labkit.data.sequences import pad_or_trim\n"
        "from labkit.models import sa_lstm_pretrained as zoo\n"
        "from labkit.models.sa_lstm import SALSTM, TemporalAttention\n"
        "attention_weights = TemporalAttention.weights\nmodel, vocab = zoo.load_pretrained('attention', seed=0)\n"
        "data = load_event_captions()\n"),
    "07_self_attention": (
        "class MyMultiHeadAttention(torch.nn.Module)", "# %%\ntorch_mha = ",
        "import math\nimport torch\nimport torch.nn.functional as F\nfrom labkit.course.exercises import check_module\n"
        "from labkit.models import transformer_pretrained as zoo\n"
        "from labkit.models.attention_ops import scaled_dot_product as dot_product_attention\n"
        "g = torch.Generator().manual_seed(1)\n"),
}

# (notebook, student version?, (wrong line, its replacement) or None, what the check must print)
CASES = [
    ("01_memnet_caffe_port", False, None, "passed (2 cases"),
    ("01_memnet_caffe_port", True, None, "not solved yet"),
    ("01_memnet_caffe_port", False, ("self.conv4 = torch.nn.Conv2d(48, 48, 3, padding=1, groups=2)",
                                     "self.conv4 = torch.nn.Conv2d(48, 48, 3, padding=1)"),
     "`conv4.weight` has shape (48, 48, 3, 3), the trained one (48, 24, 3, 3)"),
    ("01_memnet_caffe_port", False, ("return lrn_across_channels(t, 5, 1e-4, 0.75, 1.0)", "return t"),
     "output of `conv2`"),  # LRN forgotten: conv1 still agrees, conv2 is the first to differ
    ("02_resmem", False, None, "passed (2 cases"),
    ("02_resmem", True, None, "not solved yet"),
    ("02_resmem", False, ("h = torch.cat([alex, res], dim=1)", "h = torch.cat([res, alex], dim=1)"), "output of `fc6`"),
    ("04_ram", False, None, "passed (3 cases"),
    ("04_ram", True, None, "not solved yet"),
    ("04_ram", False, ("self.where(F.relu(self.fc_loc(l_prev)))", "self.where(self.fc_loc(l_prev))"),
     "output of `where`"),  # no ReLU after θ_l
    ("04_ram", False, ("log_pi = torch.distributions.Normal(mu, self.std).log_prob(l_t).sum(dim=1)",
                       "log_pi = torch.distributions.Normal(mu, self.std).log_prob(l_t.clamp(-1.0, 1.0)).sum(dim=1)"),
     "every submodule's output matches"),  # clamped before log π: the layers agree, forward does not
    ("05_attention_lstm_video", False, None, "passed (2 cases"),
    ("05_attention_lstm_video", True, None, "not solved yet"),
    ("05_attention_lstm_video", False,
     ("h, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=x.shape[1])",
      "h = self.lstm(e)[0]"), "output of `lstm`"),  # not packed: the backward LSTM starts on padding
    ("06_sa_lstm_captioning", False, None, "passed (1 cases"),
    ("06_sa_lstm_captioning", True, None, "not solved yet"),
    ("06_sa_lstm_captioning", False, ("torch.cat([self.embed(word), context], dim=1)",
                                      "torch.cat([context, self.embed(word)], dim=1)"), "output of `lstm`"),
    ("07_self_attention", False, None, "passed (3 cases"),
    ("07_self_attention", True, None, "not solved yet"),
    ("07_self_attention", False, ("out.transpose(1, 2).reshape(b, tq, e)", "out.reshape(b, tq, e)"),
     "output of `out_proj`"),  # heads merged without moving them back next to each other
]


def _exercise(notebook: str, student: bool, mistake: tuple[str, str] | None) -> str:
    start, stop, prelude = EXERCISES[notebook]
    s = (ROOT / "notebooks" / f"{notebook}.py").read_text()
    code = s[s.index(start):s.index(stop)].replace("# NBVAL_CHECK_OUTPUT", "")
    if mistake:
        assert mistake[0] in code, f"{notebook}: the solution no longer has {mistake[0]!r}"
        code = code.replace(*mistake)
    return prelude + (strip_solutions(code) if student else code)


@pytest.mark.parametrize(("notebook", "student", "mistake", "says"), CASES,
                         ids=[f"{c[0][:2]}-{'student' if c[1] else 'mistake' if c[2] else 'solution'}-{i}"
                              for i, c in enumerate(CASES)])
def test_core_module_exercise(capsys, notebook, student, mistake, says):
    exec(compile(_exercise(notebook, student, mistake), f"{notebook}.py", "exec"), {})
    out = capsys.readouterr().out
    assert says in out, out
    if student:
        assert "passed" not in out and "✘" not in out, out
    if mistake:
        assert "✘" in out, out


def test_every_model_notebook_has_a_core_module_exercise():
    for nb in sorted((ROOT / "notebooks").glob("0[1-7]_*.py")):
        assert "check_module(" in nb.read_text(), f"{nb.name} has no core-module exercise (check_module)"


def test_ram_explorer_draws_a_trained_path_step_by_step():
    from labkit.models import ram_pretrained as zoo
    from labkit.viz.glimpses import glimpse_step_figure

    net = zoo.load_pretrained("translated")
    x, y = zoo.splits("translated")["test"].tensors()
    fig = glimpse_step_figure(net, x[:10], y[:10], index=3, step=2)
    assert len(fig.axes) == 1 + net.retina.k and "glimpses 1–2" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="step in 1..6"):
        glimpse_step_figure(net, x[:10], y[:10], index=3, step=7)


def test_edit_explorer_crops_where_asked_and_refuses_bad_edits():
    from PIL import Image

    from labkit.data.images import edit_image
    from labkit.viz.saliency import edit_figure

    img = Image.fromarray(np.arange(100 * 200 * 3, dtype=np.uint8).reshape(100, 200, 3) % 255)
    assert edit_image(img, zoom=2.0).size == (100, 50)
    left = np.asarray(edit_image(img, zoom=2.0, dx=-1.0, dy=-1.0))
    assert np.array_equal(left, np.asarray(img)[:50, :100])
    assert np.array_equal(np.asarray(edit_image(img)), np.asarray(img))
    with pytest.raises(ValueError, match="zoom >= 1"):
        edit_image(img, zoom=0.5)
    fig = edit_figure(img, edit_image(img, zoom=2.0), (0.7, 0.75), "ResMem")
    assert "+0.050" in fig._suptitle.get_text()
    plt.close(fig)


def test_amnet_explorer_keeps_one_colour_scale_across_steps():
    from PIL import Image

    from labkit.viz.attention import attention_step_figure

    alpha = np.full((3, 4), 0.25)
    alpha[1] = [0.7, 0.1, 0.1, 0.1]
    img = Image.new("RGB", (32, 32))
    fig = attention_step_figure(img, alpha, (2, 2), step=1, box=(0, 0, 112, 112))
    assert fig.axes[-1].get_ylim()[1] == pytest.approx(0.7)  # the colourbar spans every step's maximum
    plt.close(fig)
    with pytest.raises(ValueError, match="step must be in 1..3"):
        attention_step_figure(img, alpha, (2, 2), step=4)
