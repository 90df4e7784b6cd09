"""The numerics: MLP, activations, losses, initialisers, optimizers, schedules, surfaces,
datasets and problems. NumPy and scikit-learn only; imports none of the other rooms."""
