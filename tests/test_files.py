"""labkit.core.files.replace_atomically: a failed write leaves the old file and no debris; a checkpoint written
through it has the bytes of a direct save, so re-running a shipped command reproduces its sha256."""

from __future__ import annotations

import pytest
import torch

from labkit.core.files import replace_atomically


def test_a_checkpoint_saved_atomically_has_the_bytes_of_a_direct_save(tmp_path):
    state = {"w": torch.arange(6.0).view(2, 3)}
    torch.save(state, tmp_path / "direct.pt")
    (tmp_path / "sub").mkdir()
    replace_atomically(tmp_path / "sub" / "direct.pt", lambda tmp: torch.save(state, tmp))
    assert (tmp_path / "sub" / "direct.pt").read_bytes() == (tmp_path / "direct.pt").read_bytes()
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["direct.pt"]  # no temporary folder left


def test_a_failed_write_leaves_the_old_file_and_no_debris(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("before")

    def half_written(tmp):
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replace_atomically(target, half_written)
    assert target.read_text() == "before" and [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
