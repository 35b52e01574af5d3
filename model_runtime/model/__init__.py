"""The SignAvatar motion model: config, transformer CVAE, features, normaliser, losses, curriculum.

Import the submodules directly (``from .model.config import ModelConfig``); importing this
package itself loads nothing heavy.
"""
