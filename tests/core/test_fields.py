"""ui.field() (core/fields.py) draws what the macro it replaced drew (docs/performance.md, 61),
for every kind of field, with and without a hint, errors or extra attributes, and for every
field of every form of the app."""

import datetime
import importlib
import inspect
import pkgutil

import pytest
from flask import render_template_string
from flask_babel import force_locale
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

import blueprints
from blueprints.sharing.forms import MultiCheckboxField
from core.forms import options

# The macro ui.field() replaced, word for word: the reference.
_MACRO = (
    '{%- from "components/ui.html" import notice -%}'
    + """{#- WTForms field with label, hint, errors and the ARIA links between them.
    ui.field(form.email, hint=_("We never share it."), autocomplete="email") -#}
{%- macro field(f, hint=None) -%}
{%- set ns = namespace(a={}) -%}
{%- for k, v in kwargs.items() -%}
{%- set ns.a = dict(ns.a, **{("class" if k == "class_" else k|replace("_", "-")): v}) -%}
{%- endfor -%}
{%- set hint = hint or f.description or None -%}
{%- set hint_id = f.id ~ "-hint" -%}
{%- set error_id = f.id ~ "-error" -%}
{%- set described = [] -%}
{%- if hint %}{% set described = described + [hint_id] %}{% endif -%}
{%- if f.errors %}{% set described = described + [error_id] %}{% endif -%}
{%- if ns.a.get("aria-describedby") %}{% set described = described + [ns.a["aria-describedby"]] %}{% endif -%}
{%- if described %}{% set ns.a = dict(ns.a, **{"aria-describedby": described|join(" ")}) %}{% endif -%}
{%- if f.errors %}{% set ns.a = dict(ns.a, **{"aria-invalid": "true"}) %}{% endif -%}

{%- if f.type in ("HiddenField", "CSRFTokenField") -%}
{{ f() }}
{%- if f.errors %}
{{ notice(_("This form has expired. Please fill it in and send it again.") if f.type == "CSRFTokenField" else f.errors|join(" "), "error") }}
{%- endif %}
{%- elif f.type == "SubmitField" -%}
<button type="submit" class="btn btn-primary" name="{{ f.name }}" value="{{ f.label.text }}">{{ f.label.text }}</button>
{%- elif f.type == "BooleanField" -%}
<div class="field field-check{% if f.errors %} has-error{% endif %}">
  <div class="check-row">
    {{ f(**ns.a) }}
    <label for="{{ f.id }}">{{ f.label.text }}</label>
  </div>
  {{- _hint_errors(f, hint, hint_id, error_id) }}
</div>
{%- elif f.type in ("RadioField", "MultiCheckboxField") -%}
<fieldset class="field field-choices{% if f.errors %} has-error{% endif %}"{% if described %} aria-describedby="{{ described|join(' ') }}"{% endif %}>
  <legend>{{ f.label.text }}{{ _optional(f) }}</legend>
  {%- for option in f %}
  <div class="check-row">
    {{ option() }}
    <label for="{{ option.id }}">{{ option.label.text }}</label>
  </div>
  {%- endfor %}
  {{- _hint_errors(f, hint, hint_id, error_id) }}
</fieldset>
{%- else -%}
<div class="field{% if f.errors %} has-error{% endif %}">
  <label for="{{ f.id }}">{{ f.label.text }}{{ _optional(f) }}</label>
  {{- _hint_errors(f, hint, hint_id, error_id, errors=False) }}
  {{ f(**ns.a) }}
  {{- _hint_errors(f, None, hint_id, error_id) }}
</div>
{%- endif -%}
{%- endmacro -%}

{%- macro _optional(f) -%}
{%- if not f.flags.required and f.type not in ("BooleanField", "SubmitField") %} <span class="field-optional">{{ _("(optional)") }}</span>{% endif -%}
{%- endmacro -%}

{%- macro _hint_errors(f, hint, hint_id, error_id, errors=True) -%}
{%- if hint %}
  <p class="field-hint" id="{{ hint_id }}">{{ hint }}</p>
{%- endif %}
{%- if errors and f.errors %}
  <p class="field-error" id="{{ error_id }}">{{ svg_icon("circle-alert") }}<span>{{ f.errors|join(" ") }}</span></p>
{%- endif %}
{%- endmacro -%}
"""
)


class _Everything(FlaskForm):
    title = StringField(
        "Titre <du> document & “co”",
        [DataRequired(), Length(max=200)],
        description="Un titre qui vous parle",
        render_kw={"data_kind": "titre", "class_": "wide"},
    )
    email = EmailField("Adresse e-mail", [DataRequired()])
    password = PasswordField("Mot de passe", [DataRequired()])
    note = TextAreaField("Note", [Optional()])
    category = SelectField("Catégorie", choices=options([("a", "A & B"), ("c", "<C>")]))
    day = DateField("Date", [Optional()])
    hidden = BooleanField("Masquer aux professionnels")
    scope = RadioField("Portée", choices=options([("all", "Tout"), ("some", "Une partie <choisie>")]), default="all")
    parts = MultiCheckboxField("Rubriques", choices=options([("documents", "Documents"), ("measures", "Mesures")]))
    token = HiddenField("Jeton")
    go = SubmitField("Envoyer « ça »")


_CALLS = [
    "{}",
    "{}|hint",
    "{}|hint=Markup('<b>En gras</b> & co')",
    "{}|maxlength='200', autocomplete='off'",
    "{}|class_='code-input', inputmode='numeric', autofocus=true",
    "{}|aria_describedby='autre-aide', hx_get='/x?a=1&b=2'",
    "{}|placeholder=Markup('<i>\"ça\"</i>'), disabled=false, readonly=true, class_='a\"b'",
    "{}|hint, aria_describedby='autre-aide', required=false, spellcheck='false'",
]


def _both(form, name, call):
    args = ", ".join(["form." + name] + ([] if call == "{}" else [call.split("|", 1)[1]]))
    args = args.replace(", hint,", ", hint=hint,").replace(", hint)", ", hint=hint)")
    if args.endswith(", hint"):
        args += "=hint"
    values = {"form": form, "hint": "Une aide <utile> & “claire”", "Markup": Markup}
    expected = render_template_string(_MACRO + "{{ field(" + args + ") }}", **values)
    drawn = render_template_string('{%- import "components/ui.html" as ui -%}{{ ui.field(' + args + ") }}", **values)
    return drawn, expected


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("errors", [False, True])
def test_each_kind_of_field_is_what_the_macro_drew(app, lang, errors):
    with app.test_request_context("/"), force_locale(lang):
        form = _Everything(data={"day": datetime.date(2026, 3, 1), "hidden": True, "token": 'a"b'})
        if errors:
            for f in form:
                f.errors = ["Ce champ est <obligatoire>.", Markup("Trop <em>long</em>.")]
        for f in form:
            for call in _CALLS:
                drawn, expected = _both(form, f.name, call)
                assert drawn == expected, (f.name, call)
        drawn = render_template_string('{%- import "components/ui.html" as ui -%}{{ ui.field(form.title) }}', form=form)
        assert ("(facultatif)" if lang == "fr" else "(optional)") not in drawn  # required: never optional
        assert ("aria-invalid" in drawn) is errors and ('class="field-error"' in drawn) is errors


def _app_forms():
    for module in pkgutil.walk_packages(blueprints.__path__, "blueprints."):
        if module.name.endswith("forms"):
            for _, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
                if issubclass(cls, FlaskForm) and cls is not FlaskForm and cls.__module__ == module.name:
                    yield cls


def test_every_field_of_every_form_of_the_app_is_what_the_macro_drew(app):
    compared = set()
    with app.test_request_context("/"), force_locale("fr"):
        for cls in _app_forms():
            try:
                form = cls(formdata=None)
            except TypeError:
                continue  # a form that needs its page's data to be made
            for f in form:
                for errors in ([], ["Réponse <refusée>."]):
                    f.errors = errors
                    drawn, expected = _both(form, f.name, "{}|hint")
                    assert drawn == expected, (cls.__name__, f.name)
                    compared.add(f.type)
    assert {"StringField", "BooleanField", "RadioField", "CSRFTokenField", "SelectField"} <= compared
