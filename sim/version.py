"""Engine version: part of every run id. Bump it whenever a model's numbers change on purpose."""

ENGINE_VERSION = "0.2.1"
