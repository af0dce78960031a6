"""Crisis detection: categories, hard negatives, measured floors and the stdin contract."""

import subprocess
import sys

import pytest

from moderation.crisis import _ANY_EXPLICIT, _COMPILED, CrisisResult, _sentences, combine, detect, worst_severity
from moderation.evaluate import HELD_OUT_SET, MAIN_SET, load, main, report, score


@pytest.mark.parametrize(
    ("text", "category", "severity"),
    [
        ("ik wil dood", "ideation", "high"),
        ("Ik zie het niet meer zitten", "ideation", "high"),
        ("ik ga mezelf iets aandoen", "intent", "critical"),
        ("ik ben pillen aan het opsparen", "plan", "critical"),
        ("ik denk erover om voor de trein te springen", "plan", "critical"),
        ("mezelf snijden helpt even", "self_harm", "high"),
        ("i keep cutting myself", "self_harm", "high"),
        ("i want to kill myself", "ideation", "high"),
        ("ik voel me suïcidaal vandaag", "ideation", "critical"),
        ("ik denk aan z e l f m o o r t", "ideation", "high"),
        ("ik wil dooooood", "ideation", "high"),
        ("zelfmoordgedachten", "ideation", "high"),
        ("ik doe aan zelfbeschadiging", "self_harm", "high"),
    ],
)
def test_positives_are_flagged_with_category_and_severity(text, category, severity):
    result = detect(text)
    assert result == CrisisResult(flagged=True, severity=severity, category=category)


@pytest.mark.parametrize(
    "text",
    [
        "ik ga dood van het lachen",
        "ik ga dood van de honger",
        "die film was killing me",
        "the killer app",
        "zelfmoordterrorist in het nieuws",
        "ik heb geen gedachten aan zelfmoord meer",
        "ik denk niet aan zelfmoord",
        "i would never kill myself",
        "ik heb het boek over zelfmoord gelezen",
        "met dit weer fietsen is zelfmoord",
        "",
    ],
)
def test_hard_negatives_are_not_flagged(text):
    assert detect(text) == CrisisResult(flagged=False)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("ik ben mijn oma verloren aan zelfmoord", "other_person"),
        ("mijn zus is suïcidaal", "other_person"),
        ("vroeger dacht ik aan zelfmoord, nu gaat het beter", "past"),
        ("vroeger wilde ik dood, ik ben er overheen", "past"),
    ],
)
def test_others_and_past_are_not_held_but_get_a_medium_review(text, category):
    result = detect(text)
    assert (result.flagged, result.severity, result.category, result.needs_review) == (False, "medium", category, True)


def test_present_marker_overrides_past():
    assert detect("vroeger wilde ik dood en nu weer").flagged


def test_a_flag_in_any_sentence_wins_and_the_result_holds_no_text():
    result = detect("Hoi allemaal. Ik heb een rotdag. Ik wil niet meer leven.")
    assert result.flagged
    assert "leven" not in repr(result)


def test_combine_and_worst_severity():
    medium = CrisisResult(False, "medium", "past")
    high = CrisisResult(True, "high", "ideation")
    assert combine(medium, high, CrisisResult(False)) == high
    assert combine() == CrisisResult(False)
    assert worst_severity([medium, high, CrisisResult(False)]) == "high"
    assert worst_severity([]) is None


def test_very_long_input_stays_fast_and_deterministic():
    text = "ik " * 20_000 + "wil dood"
    assert detect(text) == detect(text)


def test_main_set_meets_floors():
    scores, _ = score(load(MAIN_SET))
    assert scores.total >= 300
    assert scores.recall >= 0.95
    assert scores.precision >= 0.90


def test_held_out_set_meets_lower_floors():
    scores, _ = score(load(HELD_OUT_SET))
    assert scores.total >= 60
    assert scores.recall >= 0.75
    assert scores.precision >= 0.90


def test_labelled_set_is_balanced_and_varied():
    sentences = load(MAIN_SET)
    positives = sum(s.label for s in sentences)
    assert 0.35 <= positives / len(sentences) <= 0.45
    assert {s.lang for s in sentences} == {"nl", "en"}
    assert {s.kind for s in sentences} == {"pos", "neg", "hard"}


def test_load_rejects_malformed_lines(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("# comment\n\n2\tnl\tpos\ttekst\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.tsv:3"):
        load(bad)


def test_evaluate_script_prints_scores_and_errors(tmp_path, capsys):
    data = tmp_path / "set.tsv"
    data.write_text("1\tnl\tpos\tik wil dood\n0\tnl\tneg\thoi\n1\tnl\tpos\thallo daar\n0\tnl\thard\tik wil dood\n")
    assert main([str(data), "--show-errors"]) == 0
    out = capsys.readouterr().out
    assert "precision 0.500  recall 0.500" in out
    assert "missed [pos] hallo daar" in out
    assert "false alarm [hard] ik wil dood" in out


def test_report_handles_empty_scores():
    scores, wrong = score([])
    assert (scores.precision, scores.recall, scores.f1, wrong) == (1.0, 1.0, 1.0, [])
    assert "0 sentences" in report("leeg", scores)


def test_cli_contract_one_answer_per_line_with_invalid_utf8():
    lines = b"ik wil dood\nik ga dood van het lachen\n\xff\xfe kill myself\n\nend it all"
    done = subprocess.run(
        [sys.executable, "-m", "moderation.crisis"], input=lines, capture_output=True, timeout=30, check=False
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
        assert proc.wait(timeout=30) == 0
        proc.stdout.close()


def test_the_combined_prefilter_finds_a_sentence_exactly_when_one_pattern_does():
    # The prefilter may only skip sentences that no explicit pattern matches.
    sentences = [s for path in (MAIN_SET, HELD_OUT_SET) for item in load(path) for s in _sentences(item.text)]
    assert len(sentences) > 300
    matched = 0
    for sentence in sentences:
        anyone = any(pattern.search(sentence) for _, pattern in _COMPILED)
        assert (_ANY_EXPLICIT.search(sentence) is not None) == anyone, sentence
        matched += anyone
    assert matched > 50  # both outcomes are exercised
