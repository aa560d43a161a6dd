"""remedybot: get Hugging Face Spaces unstuck.

The package is import-light on purpose: `remedybot --help` must not pull in
huggingface_hub, GitPython or the sandbox. Heavy modules are imported inside
the functions that need them.
"""

__version__ = "0.1.0"
