"""Does pretraining learn? On SIMULATED biology with known ground truth.

These fail if the objective is wired wrong (targets of the wrong node, misaligned walk weights,
NaN leaking into the loss, decoders fed the wrong representation).
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from infoalign_sklearn import InfoAlignEmbedder, make_synthetic_context

SMALL = dict(latent_dim=32, hidden_dim=32, num_layers=2, dropout=0.1, batch_size=32,
             random_state=0)


@pytest.fixture(scope="module")
def setting():
    context = make_synthetic_context(n_molecules=420, n_held_out=120, random_state=0)
    held = np.flatnonzero(context.held_out)
    smiles = [context.smiles[i] for i in held]
    trained = InfoAlignEmbedder(context.graph, max_epochs=25, **SMALL).fit()
    untrained = InfoAlignEmbedder(context.graph, max_epochs=1, lr=1e-12, **SMALL).fit()
    return context, smiles, held, trained, untrained


def test_decoded_morphology_of_unseen_molecules_beats_the_training_mean(setting):
    context, smiles, _, trained, _ = setting
    truth = context.true_profiles(smiles, "morphology")
    train_mean = context.true_profiles(list(context.graph.molecule_smiles), "morphology").mean(0)
    decoded = trained.decode(smiles, "morphology")
    mse_model = np.mean((decoded - truth) ** 2)
    mse_mean = np.mean((train_mean - truth) ** 2)
    assert mse_model < 0.85 * mse_mean, (mse_model, mse_mean)


def test_representations_separate_hidden_mechanisms_better_than_untrained(setting):
    context, smiles, held, trained, untrained = setting
    labels = context.mechanisms.to_numpy(dtype=int)[held]

    def mean_auc(Z):
        usable = [j for j in range(labels.shape[1]) if 6 <= labels[:, j].sum() <= len(labels) - 6]
        return np.mean([
            cross_val_score(make_pipeline(StandardScaler(), LogisticRegression(C=0.1)), Z, labels[:, j], cv=3,
                            scoring="roc_auc").mean()
            for j in usable
        ])

    auc_trained = mean_auc(trained.transform(smiles))
    auc_untrained = mean_auc(untrained.transform(smiles))
    assert auc_trained > auc_untrained + 0.03, (auc_trained, auc_untrained)
