"""Held-out evaluation protocols: run a trained model over a held-out split and score it with ``labkit.metrics``.

Why a layer of its own: a metric maps arrays to a number and knows nothing of models (``labkit.metrics`` imports no
``labkit.models``, a test keeps it so); a protocol decides *how* a model is run on the split — deterministic or
seeded glimpses, greedy and beam decoding, which frames count as informative — and which figures a checkpoint is
judged by. ``tools/`` records those figures when it trains a checkpoint, the checkpoint tests recompute them, and the
notebooks show them: all three call the same function here.

One signature for every chapter's protocol::

    heldout_figures(model, split, **options) -> dict[str, ...]

* ``model`` first, as a trained, eval-mode model (what ``load_pretrained`` returns);
* ``split`` second: the held-out data in the form its chapter's data code returns it (RAM: a
  :class:`labkit.data.mnist.Split`; AMNet: a :class:`labkit.data.pasted_objects.PastedSet`; the video
  model: the preloaded test records; SA-LSTM: a :class:`labkit.data.captions.CaptionSet`);
* everything else keyword-only (a seed, the precomputed feature maps, the vocabulary, decoding settings), so a call
  reads the same in every chapter and an option can never be passed in the wrong position;
* the result is one flat dict of rounded figures, exactly what the MANIFEST records under ``heldout`` (SA-LSTM's
  also carries ``captions_sha256``, recorded beside it).

Modules: :mod:`labkit.eval.ram` (notebook 04), :mod:`labkit.eval.amnet` (03), :mod:`labkit.eval.video` (05),
:mod:`labkit.eval.captions` (06).
"""
