"""Scenario files that pass the parser and fail in the engine, shared by the tests of how a
failure reaches the headless runner and the app."""

#: An iris race whose initial weights come from an empty .npz file (write one beside it).
BROKEN_INIT = """\
title = "broken init"
epochs = 2
[data]
source = "iris"
[model]
layers = [4, 8, 3]
output = "softmax"
loss = "cross_entropy"
init = "empty.npz"
[[racer]]
optimizer = "adam"
"""
