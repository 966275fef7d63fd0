"""Tests of the prompt templates."""
import pytest

from videoalign.models.text import TEMPLATES, format_prompts, get_templates


def test_templates_and_prompts():
    assert get_templates('bare') == ['{}']
    assert get_templates('video') == ['a video of a person {}.']
    assert 8 <= len(TEMPLATES['ensemble']) <= 16
    assert all(t.count('{}') == 1 for templates in TEMPLATES.values() for t in templates)
    assert format_prompts(['playing_guitar', 'abseiling'], 'video') == [['a video of a person playing guitar.'],
                                                                        ['a video of a person abseiling.']]
    assert format_prompts(['playing_guitar'], ['{}', 'a {}!'],
                          replace_underscores=False) == [['playing_guitar', 'a playing_guitar!']]
    prompts = format_prompts(['x', 'y', 'z'], 'ensemble')
    assert len(prompts) == 3 and all(len(p) == len(TEMPLATES['ensemble']) for p in prompts)
    with pytest.raises(KeyError, match='unknown template set'):
        get_templates('nope')
    with pytest.raises(ValueError, match='exactly one'):
        get_templates(['no placeholder'])
    with pytest.raises(ValueError, match='empty'):
        get_templates([])
