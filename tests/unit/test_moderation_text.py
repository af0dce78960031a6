"""Normalisation for matching: folding, homoglyphs, repeats, spaced-out words."""

from hypothesis import given
from hypothesis import strategies as st

from moderation.text import (
    _normalize_ascii,
    _normalize_once,
    collapse_repeats,
    fold_homoglyphs,
    join_spaced,
    normalize,
    skeleton,
    strip_diacritics,
)

ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=80)
SURROGATE_TEXT = st.lists(st.one_of(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), st.characters()))


def test_normalize_folds_case_width_diacritics_and_invisible_characters():
    assert normalize("  SUÏCIDE\u200b is\u202e ＷＥＲＫ\u00a0 ") == "suicide is werk"


def test_normalize_replaces_lone_surrogates_and_controls():
    assert normalize("a\ud800b\x00c") == "a\ufffdb c"


def test_strip_diacritics_keeps_letters():
    assert strip_diacritics("één café naïef") == "een cafe naief"


def test_fold_homoglyphs_maps_cyrillic_greek_and_digits_inside_words():
    assert fold_homoglyphs("kl00tzak $uicide ѕυіcіdе 113 zelfm00rd") == "klootzak suicide suicide 113 zelfmoord"


def test_collapse_repeats_keeps_double_letters_by_default():
    assert collapse_repeats("dooooood") == "dood"
    assert collapse_repeats("dooooood", keep=1) == "dod"
    assert collapse_repeats("1000 euro") == "1000 euro"


def test_join_spaced_joins_single_letters_only():
    assert join_spaced("z e l f m o o r d") == "zelfmoord"
    assert join_spaced("ik wil d.o.o.d") == "ik wil dood"
    assert join_spaced("ik ga a b") == "ik ga a b"


def test_skeleton_makes_obfuscations_agree():
    assert skeleton("KLOOOOTZAK") == skeleton("k1ootzak") == skeleton("k l o o t z a k") == skeleton("kl00tzak")


@given(ANY_TEXT)
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@given(ANY_TEXT)
def test_skeleton_and_helpers_never_raise(text):
    assert isinstance(skeleton(text), str)
    assert collapse_repeats(collapse_repeats(text)) == collapse_repeats(text)


@given(SURROGATE_TEXT)
def test_normalize_never_raises_on_lone_surrogates(chars):
    result = normalize("".join(chars))
    result.encode("utf-8")


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_ascii_fast_path_equals_the_full_unicode_path(text):
    full = _normalize_once(text)
    for _ in range(3):
        again = _normalize_once(full)
        if again == full:
            break
        full = again
    assert _normalize_ascii(text) == full
    assert normalize(text) == full
