"""vetpms.renderers: select boxes drawn in Python are what Django's templates draw, byte for byte."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from vetpms.renderers import Renderer


class Choices(forms.Form):
    plain = forms.ChoiceField(choices=[("", "Any"), ("a", "A & B"), ("<b>", "<i>bold</i>"), (3, 3)], required=False)
    grouped = forms.ChoiceField(
        choices=[("x", "Loose"), ("Dogs", [("d1", "Rex"), ("d2", "Fido")]), ('Cats "& co"', [("c1", "Tom")])]
    )
    many = forms.MultipleChoiceField(choices=[("1", "one"), ("2", "two"), ("3", "three")], required=False)
    flags = forms.NullBooleanField(required=False)
    safe = forms.ChoiceField(choices=[("s", mark_safe("<em>kept</em>")), (mark_safe("<v>"), "unsafe value")])
    fancy = forms.ChoiceField(
        choices=[("1", "one")],
        widget=forms.Select(
            attrs={
                "class": "form-select is-invalid",
                "aria-invalid": "true",
                "disabled": True,
                "hidden": False,
                "data-x": 'say "hi" <now>',
                "autofocus": None,
            }
        ),
    )


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"plain": "<b>", "grouped": "d2", "many": ["1", "3"], "flags": "true", "safe": "<v>", "fancy": "1"},
        {"plain": "3", "grouped": "nope", "many": ["9"], "flags": "false"},
    ],
)
def test_selects_are_drawn_as_djangos_templates_draw_them(data):
    ours, theirs = Choices(data, renderer=Renderer()), Choices(data, renderer=DjangoTemplates())
    for name in ours.fields:
        assert str(ours[name]) == str(theirs[name]), name
    assert str(ours["grouped"]).count("<optgroup") == 2 and " multiple" in str(ours["many"])


def test_other_widgets_go_to_django(settings):
    class Other(forms.Form):
        text = forms.CharField()
        radio = forms.ChoiceField(choices=[("a", "A")], widget=forms.RadioSelect)

    assert str(Other(renderer=Renderer())["text"]) == str(Other(renderer=DjangoTemplates())["text"])
    assert str(Other(renderer=Renderer())["radio"]) == str(Other(renderer=DjangoTemplates())["radio"])
    assert settings.FORM_RENDERER == "vetpms.renderers.Renderer"
