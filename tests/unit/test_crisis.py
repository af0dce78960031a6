"""The crisis detector as a whole: the decision, context, the model file, the CLI contract and measured floors."""

import gzip
import json
import random
import subprocess
import sys

import pytest

from moderation import augment, train
from moderation.corpus import (
    HELD_OUT_SET,
    MUST_FLAG,
    CorpusError,
    corpus_examples,
    everyday_examples,
    held_out_examples,
    load,
    training_examples,
)
from moderation.crisis import DETECTOR_VERSION, MODEL, detect, detect_recent
from moderation.crisis_rules import Signals, judge_rules
from moderation.decision import COMBINER_INPUTS, Combiner, Thresholds, decide, logit
from moderation.evaluate import main as evaluate_main
from moderation.evaluate import measure
from moderation.features import features, prepare, prepare_sentences
from moderation.model import MODEL_PATH, CrisisModel, ModelFileError, read_meta, write
from moderation.model import load as load_model

# Measured on the held-out set with the shipped weights (`python -m moderation.evaluate`, docs/decisions/0015);
# the floors sit just under what was measured, so a worse model or a damaged weights file fails here.
# Measured for the shipped weights (docs/decisions/0015): recall 0.988, precision 0.867, every must-flag category
# 0.962 or more. The floors sit just below, so a worse model or a damaged weights file fails here.
HELD_OUT_RECALL_FLOOR = 0.98
HELD_OUT_PRECISION_FLOOR = 0.85
HELD_OUT_CATEGORY_RECALL_FLOOR = 0.95


def _signals(**changes):
    base = {
        "critical": False,
        "high": False,
        "past": False,
        "other": False,
        "past_marker": False,
        "other_marker": False,
        "information": False,
        "soon": False,
        "keyword": False,
        "first_person": True,
        "sentences": 1,
        "words": 3,
    }
    base.update(changes)
    return Signals(**base)


def test_a_critical_rule_holds_whatever_the_numbers_say():
    assert decide(_signals(critical=True), 0.0, Thresholds(0.6, 0.3)) == (True, False)


def test_the_combined_probability_holds_at_the_threshold_and_reviews_in_the_band():
    thresholds = Thresholds(0.6, 0.3)
    assert decide(_signals(), 0.6, thresholds) == (True, False)
    assert decide(_signals(), 0.59, thresholds) == (False, True)
    assert decide(_signals(), 0.3, thresholds) == (False, True)
    assert decide(_signals(), 0.29, thresholds) == (False, False)


def test_what_the_rules_mark_for_care_is_reviewed_never_held_below_the_threshold():
    assert decide(_signals(past=True), 0.1, Thresholds(0.6, 0.3), needs_review=True) == (False, True)


def test_the_combiner_weighs_the_model_and_the_signals():
    names = list(COMBINER_INPUTS)
    weights = [0.0] * len(names)
    weights[names.index("model_logit")] = 1.0
    weights[names.index("past")] = -3.0
    combiner = Combiner(tuple(weights), 0.0)
    assert combiner.probability(0.5, _signals()) == pytest.approx(0.5)
    assert combiner.probability(0.9, _signals(past=True)) < combiner.probability(0.9, _signals())
    assert logit(0.0) == -logit(1.0) == -12.0
    with pytest.raises(ValueError, match="weights"):
        Combiner((1.0,), 0.0)


@pytest.mark.parametrize(
    "text",
    [
        "ik ga vanavond zelfmoord plegen",
        "i want to kill myself",
        "ik wil dood",
        "ik heb me weer gesneden",
    ],
)
def test_explicit_messages_are_held_with_reasons_and_version(text):
    result = detect(text)
    assert result.flagged
    assert result.severity in ("high", "critical")
    assert result.reasons
    assert result.version == DETECTOR_VERSION
    assert 0.0 <= result.score <= 1.0


@pytest.mark.parametrize(
    "text", ["", "   ", "hoi allemaal", "wat een mooi weer vandaag", "ik ga dood van het lachen", "x" * 300, "hallo"]
)
def test_ordinary_messages_are_neither_held_nor_reviewed(text):
    result = detect(text)
    assert not result.flagged
    assert not result.needs_review
    assert result.reasons == ()


def test_reasons_for_the_model_name_its_score_and_never_leave_the_result():
    result = detect("ik hoop dat ik morgen gewoon niet meer wakker word, iedereen is beter af zonder mij")
    assert result.flagged
    assert any(reason.startswith("model:") for reason in result.reasons)


def test_context_joins_an_authors_recent_lines():
    lines = ["bedankt voor alles jullie", "het was mooi", "zorg goed voor elkaar", "dit is mijn laatste bericht hier"]
    together = detect_recent(lines)
    assert together.flagged
    assert together.reasons[0] == "samen met eerdere berichten"
    assert together.version == DETECTOR_VERSION


@pytest.mark.parametrize("word", ["leven", "live", "afscheid"])
def test_one_everyday_word_is_never_held_on_the_models_word(word):
    result = detect(word)
    assert not result.flagged


def test_glued_writing_and_single_crisis_words_are_still_held():
    for text in ("ikwildood", "zelfmoord", "kms"):
        assert detect(text).flagged, text


def test_context_of_nothing_flags_nothing():
    assert not detect_recent([]).flagged
    assert not detect_recent(["", "  "]).flagged
    assert not detect_recent(["hoi", "hoe gaat het", "lekker weer"]).flagged


def test_detection_is_deterministic_and_bounded_on_a_hostile_paste():
    text = "ik " * 20_000 + "wil dood"
    assert detect(text) == detect(text)
    assert detect("\ud800" * 10 + "ik wil dood").flagged


def test_features_count_every_occurrence_and_keep_bigrams_inside_sentences():
    sentences = prepare_sentences("Ik wil... DOOOOD. Echt")
    assert sentences == ("ik wil", "dod", "echt")
    grams = features(sentences)
    assert "b:ik wil" in grams
    assert "b:wil dod" not in grams
    assert grams.count("w:ik") == 1
    assert features(()) == []


def test_prepare_spells_out_slang_and_hides_numbers():
    assert prepare("k wil zm plegen om 23:00") == "ik wil zelfmord plegen om 0 0"
    assert prepare("kms rn") == "kil myself right now"


def test_augmentations_keep_the_text_recognisable_and_are_deterministic():
    text = "Ik denk aan zelfmoord en wil mezelf iets aandoen"
    for transform in augment.TRANSFORMS:
        first = transform(text, random.Random(3))
        assert first == transform(text, random.Random(3))
        assert first.strip()
    assert "z e l f m o o r d" in augment.spaced("zelfmoord", random.Random(0)).replace(".", " ").replace(
        "-", " "
    ).replace("*", " ")
    assert augment.leetspeak("zelfmoord", random.Random(0)) == "z3lfm00rd"
    assert augment.no_diacritics("suïcidaal", random.Random(0)) == "suicidaal"
    assert augment.slang("ik denk aan zelfmoord", random.Random(0)) == "ik denk aan zm"
    variants = augment.variants(text, random.Random(1), 4)
    assert len(variants) == len(set(variants)) == 4
    assert text not in variants


def test_hidden_spellings_of_a_held_message_are_held_too():
    rng = random.Random(7)
    text = "ik wil zelfmoord plegen"
    for transform in (augment.spaced, augment.leetspeak, augment.stretched, augment.slang, augment.chat_style):
        assert detect(transform(text, rng)).flagged, transform.__name__


def test_the_model_file_round_trips_and_is_deterministic(tmp_path):
    combiner = Combiner((1.0,) + (0.0,) * (len(COMBINER_INPUTS) - 1), 0.25)
    model = CrisisModel("t-1", -0.5, {"w:dod": 2.0, " do": 0.25}, Thresholds(0.6, 0.3), combiner)
    first, second = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    write(model, {"texts": 2}, first)
    write(model, {"texts": 2}, second)
    assert first.read_bytes() == second.read_bytes()
    again = load_model(first)
    assert (again.version, again.bias, again.weights, again.thresholds, again.combiner) == (
        "t-1",
        -0.5,
        model.weights,
        model.thresholds,
        combiner,
    )
    assert again.probability(("ik wil dod",)) == model.probability(("ik wil dod",))
    assert read_meta(first) == {"texts": 2}


def test_a_damaged_or_foreign_model_file_is_refused_with_a_reason(tmp_path):
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(ModelFileError, match="cannot read"):
        load_model(broken)
    foreign = tmp_path / "foreign.json.gz"
    foreign.write_bytes(gzip.compress(json.dumps({"format": 99}).encode()))
    with pytest.raises(ModelFileError, match="format"):
        load_model(foreign)
    missing = tmp_path / "missing.json.gz"
    missing.write_bytes(gzip.compress(json.dumps({"format": 1, "version": "x"}).encode()))
    with pytest.raises(ModelFileError, match="lacks"):
        load_model(missing)
    with pytest.raises(ModelFileError, match="thresholds"):
        CrisisModel("x", 0.0, {}, Thresholds(0.2, 0.5), Combiner((0.0,) * len(COMBINER_INPUTS), 0.0))


def test_the_shipped_model_is_small_and_its_thresholds_leave_a_review_band():
    assert MODEL.thresholds.review < MODEL.thresholds.hold
    assert 1_000 < len(MODEL.weights) < 400_000
    assert MODEL_PATH.stat().st_size < 3_000_000
    meta = read_meta()
    assert meta["texts"] >= 4_000


def test_the_corpus_follows_the_label_policy_and_never_holds_a_held_out_text():
    corpus = corpus_examples()
    assert len(corpus) >= 4_000
    assert sum(e.label for e in corpus) / len(corpus) >= 0.40
    assert all(not e.label for e in everyday_examples())
    assert {e.lang for e in corpus} >= {"nl", "en", "mix"}
    for category in MUST_FLAG:
        assert sum(1 for e in corpus if e.category == category) >= 100, category
    held_out = {prepare(e.text) for e in held_out_examples()}
    assert not held_out & {prepare(e.text) for e in train._unique(training_examples())}


def test_load_rejects_malformed_lines(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("# comment\n\n1\tnl\tidiom\tg1\ttekst\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.tsv:3: category"):
        load(bad)
    bad.write_text("2\tnl\tintent\tg\tx\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="label"):
        load(bad)
    bad.write_text("1\tfr\tintent\tg\tx\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="language"):
        load(bad)


def test_held_out_set_meets_the_floors():
    examples = held_out_examples()
    assert len(examples) >= 800
    by_category, by_lang = measure(examples)
    overall = by_category["all"]
    assert overall["recall"] >= HELD_OUT_RECALL_FLOOR
    assert overall["precision"] >= HELD_OUT_PRECISION_FLOOR
    for category in MUST_FLAG:
        assert by_category[category]["recall"] >= HELD_OUT_CATEGORY_RECALL_FLOOR, category
    assert set(by_lang) >= {"nl", "en", "mix"}


def test_evaluate_prints_both_sets_and_hides_held_out_errors(tmp_path, capsys):
    assert evaluate_main([]) == 0
    out = capsys.readouterr().out
    assert "grouped cross-validation" in out
    assert "held-out set" in out
    assert "per language" in out
    with pytest.raises(SystemExit):
        evaluate_main([str(HELD_OUT_SET), "--show-errors"])
    data = tmp_path / "set.tsv"
    data.write_text("1\tnl\tintent\ta\tik wil dood\n0\tnl\tgeneral\tb\thoi\n1\tnl\thidden\tc\thallo daar\n")
    assert evaluate_main([str(data), "--show-errors"]) == 0
    out = capsys.readouterr().out
    assert "missed [hidden] hallo daar" in out


def test_cli_contract_one_answer_per_line_with_invalid_utf8():
    lines = b"ik wil dood\nik ga dood van het lachen\n\xff\xfe kill myself\n\nend it all"
    done = subprocess.run(
        [sys.executable, "-m", "moderation.crisis"], input=lines, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0
    assert done.stdout.decode().split("\n") == ["1", "0", "1", "0", "1", ""]


def test_cli_answers_each_line_before_the_next_arrives():
    proc = subprocess.Popen([sys.executable, "-m", "moderation.crisis"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(b"ik wil er niet meer zijn\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == b"1\n"
        proc.stdin.write(b"hoi\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == b"0\n"
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
        proc.stdout.close()


def test_rules_alone_and_detect_agree_on_explicit_plans():
    text = "ik ga vanavond al mijn pillen innemen"
    assert judge_rules(text).flagged == detect(text).flagged is True
    assert judge_rules(text).severity == detect(text).severity == "critical"
