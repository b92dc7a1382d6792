"""The dev launcher (`make run`, `python -m devserver`): emulator, worker and Django in one command.

Not part of config/: it imports the emulator, and config only wires settings, urls and Celery.
Nothing here is used in production (see deploy/).
"""
