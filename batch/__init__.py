"""``lowlight batch``: enhance every image and video under a folder, locally or on a Ray cluster.

Modules, one job each:

* :mod:`~lowlight.batch.discover` - find the input files and their output paths;
* :mod:`~lowlight.batch.manifest` - the JSON-lines manifest and the resume decision;
* :mod:`~lowlight.batch.work` - process one file (image or video) into a result record, with the
  enhancer loaded once per worker process;
* :mod:`~lowlight.batch.local` - a pool of worker processes that survives a dying worker;
* :mod:`~lowlight.batch.ray_runner` - the same on a Ray cluster (``pip install 'lowlight[ray]'``);
* the command line is :mod:`lowlight.cli.batch`, which calls these library modules.

Nothing here imports a CLI module, and the core package imports nothing here.
"""
