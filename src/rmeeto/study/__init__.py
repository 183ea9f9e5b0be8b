"""The experiment harness: ``rmeeto demo``, ``rmeeto study`` and ``rmeeto study-video``.

These modules run the library (train, patch, bench) to answer the paper's questions on small data sets and
write reports. The library never imports this package (``tests/test_study_layering.py`` checks it); only
``rmeeto.cli`` does, to register the commands.

- ``demo``: the end-to-end demo, and the Fashion-MNIST finder (data sets are found here, never installed:
  ``make demo`` and ``.ci/run`` install Debian's package where they can).
- ``stages``: the image study's stages and its command; ``recipes``: the re-training recipes it compares;
  ``runs``: each re-training as its own ``rmeeto train`` process; ``results``: the stage files;
  ``report``: its Markdown report.
- ``video``, ``video_report``: the video study and its report.

Outputs go under ``runs/`` by default (``--out`` to choose), never into ``docs/``. The recipes the studies
re-use are the repository's ``configs/*.yaml``, not package data: ``--vit-config`` and ``--config`` default
to them relative to the working directory (a source checkout's root); elsewhere pass them explicitly.
"""
