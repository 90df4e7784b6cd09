"""The training engine: NumPy and scikit-learn only, never Textual."""
