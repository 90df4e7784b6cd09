"""The batch schedule every racer shares."""

from __future__ import annotations

import numpy as np

from tui_optim.engine.data.spec import DataError


class BatchSchedule:
    """Which training rows each step of each epoch uses; the same for every racer.

    ``batch_size`` None (or >= n_train) is full batch, 1 is stochastic. The order of epoch
    ``e`` is a pure function of ``(seed, e)``, so a restart, a fork or another engine
    process sees exactly the same batches. The last batch of an epoch may be smaller.
    """

    def __init__(self, n_train: int, batch_size: int | None, shuffle: bool, seed: int):
        if n_train < 1:
            raise DataError("no training rows")
        self.n_train = n_train
        self.batch_size = None if batch_size is None or batch_size >= n_train else batch_size
        self.shuffle = shuffle
        self.seed = seed
        size = self.batch_size or n_train
        self.steps_per_epoch = -(-n_train // size)

    def epoch(self, epoch: int) -> list[np.ndarray | None]:
        """Index arrays for each step of ``epoch``; ``[None]`` means all rows in order."""
        if self.batch_size is None:
            return [None]  # a full batch's mean gradient does not depend on the order
        if not self.shuffle:
            order = np.arange(self.n_train)
        else:
            order = np.random.default_rng([self.seed, epoch]).permutation(self.n_train)
        size = self.batch_size or self.n_train
        return [order[i : i + size] for i in range(0, self.n_train, size)]
