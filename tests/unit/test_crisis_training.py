"""Training the crisis model: reproducible to the byte, grouped folds, thresholds from out-of-fold scores only."""

from moderation import train
from moderation.corpus import Example
from moderation.crisis_rules import analyse
from moderation.model import MODEL_PATH


def test_the_shipped_weights_are_exactly_what_the_training_command_writes(tmp_path):
    out = tmp_path / "model.json.gz"
    assert train.main(["--out", str(out)]) == 0
    assert out.read_bytes() == MODEL_PATH.read_bytes(), "run `python -m moderation.train` and commit the weights"


def test_folds_keep_each_group_on_one_side_and_are_balanced():
    examples = [Example(i % 2 == 0, "nl", "general", f"g{i // 3}", f"tekst {i}") for i in range(300)]
    folds = train._group_folds(examples, 5, seed=1)
    by_group: dict[str, set[int]] = {}
    for example, fold in zip(examples, folds, strict=True):
        by_group.setdefault(example.group, set()).add(fold)
    assert all(len(f) == 1 for f in by_group.values())
    sizes = [folds.count(f) for f in range(5)]
    assert max(sizes) - min(sizes) <= 3
    assert folds == train._group_folds(examples, 5, seed=1)


def test_thresholds_reach_the_recall_targets_on_the_scores_they_were_chosen_from():
    labels = [True] * 50 + [False] * 50
    probability = [0.5 + i / 100 for i in range(50)] + [i / 100 for i in range(50)]
    signals = [analyse("hallo")[1]] * 100
    everyday = [False] * 50 + [True] * 50
    thresholds = train.choose_thresholds(labels, signals, probability, [False] * 100, everyday)
    held = [p >= thresholds.hold for p in probability]
    assert sum(1 for label, flag in zip(labels, held, strict=True) if label and flag) / 50 >= train.HOLD_RECALL
    reviewed = [thresholds.review <= p < thresholds.hold for p, e in zip(probability, everyday, strict=True) if e]
    assert sum(reviewed) / 50 <= train.REVIEW_MAX_EVERYDAY
    assert thresholds.review <= thresholds.hold


def test_fit_learns_a_separable_toy_problem():
    examples = [Example(True, "nl", "intent", f"p{i}", f"ik wil dood echt {i}") for i in range(20)] + [
        Example(False, "nl", "general", f"n{i}", f"lekker weer vandaag {i}") for i in range(20)
    ]
    rows = train._rows(examples, seed=3)
    model = train.fit(rows, c=4.0, seed=3)
    assert model.probability(("ik wil dod",)) > 0.5 > model.probability(("leker wer",))
