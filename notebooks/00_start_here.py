# %% [markdown]
# # 00 · Start here — the attention & memorability course
#
# **What you will learn in this course.** Six models that decide *what matters in an image or a video* — either by predicting how memorable an image is, or by learning where to look — rebuilt in modern PyTorch from their papers and original code, with every number recomputed on your machine.
#
# **In this notebook** you will
# 1. see the course map and the order of the notebooks,
# 2. learn the two ways to run a notebook (step through it, or headless with parameters),
# 3. check that your environment is complete (the `labkit doctor` findings, rendered),
# 4. see the reproducibility rule the whole course follows: seeds set; the same machine and thread count repeat every
#    checked number exactly, and what can differ on another CPU is said where it matters.

# %% tags=["parameters"]
from typing import Optional

profile: str = "quick"  # quick|full: quick runs on bundled data in about a minute on 2 CPU cores, full on real datasets
data_root: Optional[str] = None  # None: bundled data; a folder: the real dataset (unused in this notebook)
seed: int = 0  # 0..: seed for Python, NumPy and torch

# %%
import matplotlib.pyplot as plt
import torch

import labkit
from labkit.course.doctor import findings
from labkit.course.notebooks import course_notebooks
from labkit.course.params import read_params
from labkit.viz.course import draw_course_map

labkit.seed_everything(seed)
threads = labkit.set_threads()
print(f"profile={profile!r}, torch threads={threads}, device={labkit.device('auto')}")

# %% [markdown]
# ## 1 · The course map
#
# | # | notebook | model / idea | paper |
# |---|---|---|---|
# | 01 | `01_memnet_caffe_port` | MemNet; porting a Caffe network *exactly*; Spearman ρ | Khosla et al., ICCV 2015 |
# | 02 | `02_resmem` | ResMem: AlexNet branch + ResNet-152 → memorability; fast batched inference; TripleMem (+ a frozen segmentation branch) | Needell & Bainbridge |
# | 03 | `03_amnet` | AMNet: soft spatial attention over LSTM steps | Fajtl et al., CVPR 2018 |
# | 04 | `04_ram` | RAM: glimpses and REINFORCE | Mnih et al., NIPS 2014 |
# | 05 | `05_attention_lstm_video` | BiLSTM + attention pooling for video classification (YouTube-8M) | Long et al. 2018 / PaddleVideo |
# | 06 | `06_sa_lstm_captioning` | SA-LSTM: temporal soft attention for captioning | Yao et al., ICCV 2015 |
# | 07 | `07_self_attention` | self-attention: scaled dot-product and multi-head attention, positions, a small transformer on 05's videos | Vaswani et al., NeurIPS 2017 |
#
# Notebook 02 provides the ResNet-152 backbone and image set that 03 reuses, and notebook 04's small convnet is the frame encoder of 05, 06 and 07; 07 ends the course on 05's and 06's videos, so take them in order. The arrows below show which notebook builds on which.

# %%
fig = draw_course_map()
plt.show()

# %% [markdown]
# ## 2 · Two ways to run a notebook
#
# **Step through it** in JupyterLab (`.venv/bin/jupyter lab`): run cells top to bottom; change a value in the first cell (the *parameters* cell) and re-run.
#
# **Headless, with parameters** — what researchers and CI do. The `labkit` command runs a notebook through [papermill](https://papermill.readthedocs.io), writes the executed copy, a `metrics.json` of everything the notebook recorded with `labkit.record(...)`, and a log:
#
# ```bash
# labkit list                                   # the notebooks and their parameters
# labkit params 04_ram                          # name, type, default and help of each parameter
# labkit run 04_ram -p glimpses 4 -p epochs 2   # one run, outputs in runs/04_ram/
# labkit run --all                              # the whole course, quick profile
# ```
#
# A misspelt parameter or a value of the wrong type is refused **before** anything runs (papermill alone would only warn and silently use the default).
#
# ### The parameter convention
# Every notebook's first code cell is tagged `parameters` and declares each parameter with a type and a help text. Every notebook has at least `profile` (`quick` = bundled data, about a minute on 2 CPU cores; `full` = the real dataset and published settings) and `data_root` (`None` = the small data that ships with the course; a folder = the real dataset in its original format). These are this notebook's:

# %%
for nb in course_notebooks():
    if nb.stem.startswith("00"):
        for p in read_params(nb).values():
            print(p.describe())

# %% [markdown]
# ## 3 · Is the environment complete?
#
# `labkit doctor` checks versions, that **torch and torchvision are a matching pair** (a mismatched pair fails at `import torchvision` with `operator torchvision::nms does not exist`), the device, the bundled assets (each file's sha256 against its manifest) and the pretrained ResMem weights that ship inside the `resmem` package. Nothing in this course downloads anything at run time.

# %%
from IPython.display import Markdown, display

info = findings()
rows = [f"| {k} | {v} |" for k, v in info.items() if k != "problems"]
display(Markdown("| check | finding |\n|---|---|\n" + "\n".join(rows)))
labkit.record("environment_problems", len(info["problems"]))
assert not info["problems"], "fix these before going on:\n" + "\n".join(info["problems"])

# %% [markdown]
# ## 4 · Reproducibility: the same seed gives the same numbers
#
# `labkit.seed_everything(seed)` seeds Python, NumPy and torch and asks torch for deterministic kernels. What that
# buys, precisely:
# - **The same machine, the same thread count:** a re-run reproduces every number bit for bit. A test runs a notebook
#   twice and compares its `metrics.json` exactly, and CI compares the cells marked `NBVAL_CHECK_OUTPUT` with the
#   committed notebook (see the README's testing section).
# - **Another CPU** (a different vector unit, another BLAS build, another thread count) sums floating-point numbers in
#   another order. Exact checks still agree (a converter equal to Caffe to 1e-5, a metric on a hand-computed case),
#   and so do the shipped checkpoints' figures (their tests allow a digit or two to flip). Numbers *trained* in a
#   notebook can drift apart from the first epoch, and some, like RAM's border share in notebook 04, are chaotic.
#   So the course never writes such a number into prose: it is printed by the cell that computes it, or the text
#   is worded without it.
# - **Threads:** each notebook sets its own (`labkit.set_threads`), so a run does not depend on how many cores your
#   machine has unless you ask it to.

# %%
# NBVAL_CHECK_OUTPUT
labkit.seed_everything(seed)
first = torch.randn(3)
labkit.seed_everything(seed)
again = torch.randn(3)
assert torch.equal(first, again), "seeding did not make torch repeatable"
print("identical draws:", [round(x, 4) for x in first.tolist()])

# %% [markdown]
# ## Where next
#
# Open `01_memnet_caffe_port.ipynb`. Each notebook starts with its learning objectives, what it assumes you know and
# how long it takes to study; you write the model the chapter is about as an `nn.Module` (checked against trained
# weights), play with an explorer (static when run headless), and end with what to remember, open-ended exercises
# and references. Heavy code lives in `labkit` (read it: `labkit/models/`, one model per file).
#
# ### References
# - papermill: parameterizing and executing Jupyter notebooks, <https://papermill.readthedocs.io>
# - nbval: a py.test plugin to validate Jupyter notebooks, <https://nbval.readthedocs.io>
# - A. Zhang et al., *Dive into Deep Learning* (the one-source style this course follows), <https://d2l.ai>
