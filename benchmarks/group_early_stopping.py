"""Early stopping on a random hold-out vs on whole scaffold groups, on a real benchmark.

Run: ``python benchmarks/group_early_stopping.py --data-dir ../shared/data`` (or set
``INFOALIGN_DATA_DIR``); add ``--dataset chembl2k`` for a classification set.

For each seed: a scaffold split of the benchmark (train 75 %, test 25 %, ``scaffold_split_indices``),
Morgan fingerprints (1,024 bits), and the MLP head fitted on the training part twice: early-stopped
on a random 10 % of it (``fit(X, y)``) and on whole scaffold groups making up about 10 % of it
(``fit(X, y, groups=scaffold_groups(train_smiles))``). Printed per fit: the epoch kept, the
loss of the kept weights on the early-stopping hold-out and on the test part (the same
function for both, in the head's training units: masked L1 / MSE of the standardised targets
for regression, masked BCE for classification), and the
test score (MAE and RMSE averaged over tasks, or ROC-AUC). A hold-out that shares scaffolds with
the rows trained on should look more optimistic than the test part; one of whole scaffolds less.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from infoalign_sklearn import (
    MorganFingerprint,
    MultiTaskMLPClassifier,
    MultiTaskMLPRegressor,
    load_benchmark,
    multitask_mae,
    multitask_rmse,
    multitask_roc_auc,
    scaffold_groups,
    scaffold_split_indices,
)
from infoalign_sklearn.estimators import masked_loss


def _test_loss(model, X, y) -> float:
    """The head's own training loss on (X, y): what its validation loss measures."""
    out = torch.as_tensor(model.net_.forward(X.astype(np.float32), training=False, device="cpu"))
    if isinstance(model, MultiTaskMLPRegressor):
        targets = (y - model.target_mean_) / model.target_scale_
        criterion = torch.nn.L1Loss() if model.loss == "l1" else torch.nn.MSELoss()
    else:
        targets, criterion = y, torch.nn.BCEWithLogitsLoss()
    return float(masked_loss(criterion, out.float(), torch.as_tensor(targets, dtype=torch.float32)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("INFOALIGN_DATA_DIR"))
    parser.add_argument("--dataset", default="biogenadme")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--hidden-size", type=int, default=256)
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--loss", default="l1", choices=["l1", "mse"])
    args = parser.parse_args(argv)
    if args.data_dir is None:
        parser.error("pass --data-dir (the folder holding benchmarks/) or set INFOALIGN_DATA_DIR")
    torch.set_num_threads(1)
    smiles, y = load_benchmark(args.dataset, args.data_dir, return_X_y=True)
    X = MorganFingerprint(n_bits=1024).transform(smiles)
    regression = not np.isin(y[~np.isnan(y)], (0, 1)).all()
    print(f"{args.dataset}: {len(smiles)} molecules, {y.shape[1]} tasks, "
          f"{'regression' if regression else 'classification'}")
    print("| seed | hold-out | epoch kept | valid loss | test loss | test score | seconds |")
    print("|---|---|---|---|---|---|---|")
    for seed in range(args.seeds):
        train, _, test = scaffold_split_indices(smiles, sizes=(0.75, 0.0, 0.25),
                                                random_state=seed)
        groups = scaffold_groups([smiles[i] for i in train])
        for name, fit_params in (("random rows", {}), ("whole scaffolds", {"groups": groups})):
            params = dict(hidden_size=args.hidden_size, max_epochs=args.max_epochs,
                          random_state=seed)
            model = (MultiTaskMLPRegressor(loss=args.loss, **params) if regression
                     else MultiTaskMLPClassifier(**params))
            start = time.perf_counter()
            model.fit(X[train], y[train], **fit_params)
            seconds = time.perf_counter() - start
            held = train[model.validation_indices_]
            valid_loss = _test_loss(model, X[held], y[held])
            if regression:
                pred = model.predict(X[test])
                score = (f"MAE {multitask_mae(y[test], pred):.4f}, "
                         f"RMSE {multitask_rmse(y[test], pred):.4f}")
            else:
                score = f"AUC {multitask_roc_auc(y[test], model.predict_proba(X[test])):.4f}"
            print(f"| {seed} | {name} ({model.validation_indices_.size} rows) | "
                  f"{model.best_epoch_} | {valid_loss:.4f} | "
                  f"{_test_loss(model, X[test], y[test]):.4f} | {score} | {seconds:.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
