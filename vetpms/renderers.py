"""The form renderer (settings.FORM_RENDERER): Django's, with its select boxes drawn in Python.

Django draws a ``<select>`` through two more templates per option (the option, then its attributes); a list page's
filter form has five or six selects of up to a few dozen options, and drawing them cost a few milliseconds a page.
``render`` writes exactly what django/forms/widgets/select.html, select_option.html and attrs.html write, from the
same context the widget gives them; any other template, or a widget with its own option template, goes to Django.
"""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"


def _attrs(attrs: dict) -> str:
    """attrs.html: `` name="value"`` each, a bare `` name`` for True, nothing for False."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(
            f" {conditional_escape(name)}"
            if value is True
            else f' {conditional_escape(name)}="{conditional_escape(f"{value}")}"'
        )
    return "".join(out)


def _select(widget: dict) -> str:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            value = conditional_escape(f"{option['value']}")
            parts.append(
                f'\n  <option value="{value}"{_attrs(option["attrs"])}>{conditional_escape(option["label"])}</option>\n'
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts).strip()


class Renderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget") if template_name == SELECT else None
        if widget is not None and all(
            option.get("template_name") == OPTION for _, options, _ in widget["optgroups"] for option in options
        ):
            return _select(widget)
        return super().render(template_name, context, request=request)
