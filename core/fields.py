"""ui.field(): a WTForms field with its label, hint, errors and the ARIA links between them, in
Python rather than as a macro (docs/performance.md, 61). Every form page draws one per field
(the sharing page five, each login step one or two), and the macro built its attributes with a
dict merge per keyword. It draws exactly what the macro drew, the input as the field's own
WTForms widget draws it. A plain <input> (text, e-mail, date, number, password, checkbox,
hidden) is drawn here, its attributes joined by hand: the widget's html_params() formats each
one through Markup.format(), a pure-Python formatter that was a tenth of a form page."""

from __future__ import annotations

from flask import current_app
from markupsafe import Markup, escape
from wtforms.meta import DefaultMeta
from wtforms.widgets.core import CheckboxInput, Input, PasswordInput, clean_key

from core.i18n import by_locale, current_locale

_HIDDEN = ("HiddenField", "CSRFTokenField")
_CHOICES = ("RadioField", "MultiCheckboxField")
_NOT_OPTIONAL = ("BooleanField", "SubmitField")


def init_app(app) -> None:
    """After templating's globals: a field's error and its notice use its icons."""
    app.jinja_env.globals["ui_field"] = _field_maker(app.jinja_env.globals["svg_icon"])


def _field_maker(svg_icon):
    def hint_errors(f, hint, hint_id, error_id, errors=True) -> list:
        out = []
        if hint:
            out += ['\n  <p class="field-hint" id="', hint_id, '">', escape(hint), "</p>"]
        if errors and f.errors:
            out += ['\n  <p class="field-error" id="', error_id, '">', svg_icon("circle-alert")]
            out += ["<span>", _joined(f.errors), "</span></p>"]
        return out

    def optional(f, words) -> str:
        if f.flags.required or f.type in _NOT_OPTIONAL:
            return ""
        return ' <span class="field-optional">' + words("(optional)") + "</span>"

    def field(f, hint=None, **kwargs) -> Markup:
        """{{ ui.field(form.email, hint=_("…"), autocomplete="email") }}: keywords become the
        input's attributes (class_ -> class, aria_x -> aria-x)."""
        attrs = {("class" if k == "class_" else k.replace("_", "-")): v for k, v in kwargs.items()}
        hint = hint or f.description or None
        fid = escape(f.id)
        hint_id, error_id = fid + "-hint", fid + "-error"
        described = []
        if hint:
            described.append(hint_id)
        if f.errors:
            described.append(error_id)
        if attrs.get("aria-describedby"):
            described.append(attrs["aria-describedby"])
        if described:
            attrs["aria-describedby"] = _joined(described)
        if f.errors:
            attrs["aria-invalid"] = "true"
        kind = f.type
        if kind in _HIDDEN:
            if not f.errors:
                return _input(f, {})
            words = by_locale(current_locale()).ugettext
            expired = words("This form has expired. Please fill it in and send it again.")
            message = Markup(expired) if kind == "CSRFTokenField" else _joined(f.errors)
            return _input(f, {}) + "\n" + _notice(message)
        label = escape(f.label.text)
        if kind == "SubmitField":
            name = escape(f.name)
            return Markup(
                f'<button type="submit" class="btn btn-primary" name="{name}" value="{label}">{label}</button>'
            )
        has_error = " has-error" if f.errors else ""
        words = by_locale(current_locale()).ugettext
        if kind == "BooleanField":
            out = [f'<div class="field field-check{has_error}">\n  <div class="check-row">\n    ', _input(f, attrs)]
            out += [f'\n    <label for="{fid}">{label}</label>\n  </div>']
        elif kind in _CHOICES:
            out = ['<fieldset class="field field-choices', has_error, '"']
            if described:
                out += [' aria-describedby="', _joined(described), '"']
            out += [">\n  <legend>", label, optional(f, words), "</legend>"]
            for option in f:
                out += ['\n  <div class="check-row">\n    ', option(), '\n    <label for="', escape(option.id)]
                out += ['">', escape(option.label.text), "</label>\n  </div>"]
        else:
            out = [f'<div class="field{has_error}">\n  <label for="{fid}">{label}', optional(f, words), "</label>"]
            out += hint_errors(f, hint, hint_id, error_id, errors=False)
            out += ["\n  ", _input(f, attrs)]
            out += hint_errors(f, None, hint_id, error_id)
            out.append("\n</div>")
            return Markup("".join(out))
        out += hint_errors(f, hint, hint_id, error_id)
        out.append("\n</fieldset>" if kind in _CHOICES else "\n</div>")
        return Markup("".join(out))

    return field


_PLAIN = {Input.__call__, CheckboxInput.__call__, PasswordInput.__call__}


def _input(f, attrs: dict) -> Markup:
    """f(**attrs) for a plain <input>: what DefaultMeta.render_field() and the widget's
    __call__() do (WTForms 3.3), with html_params() done by _params(). It reads the field as
    every WTForms widget does (`_value()`, the widget protocol; `_datalist`); should a release
    change that, tests/core/test_fields.py, which compares with the widget, fails. Any other
    widget, or a form whose meta draws its own way, is drawn by WTForms."""
    widget = f.widget
    call = type(widget).__call__
    if call not in _PLAIN or type(f.meta).render_field is not DefaultMeta.render_field:
        return f(**attrs)
    kw = {clean_key(k): v for k, v in attrs.items()}
    if f.render_kw is not None:
        kw = dict({clean_key(k): v for k, v in f.render_kw.items()}, **kw)
    if "name" in kw:
        return f(**attrs)
    if call is CheckboxInput.__call__ and getattr(f, "checked", f.data):
        kw.setdefault("checked", True)
    if call is PasswordInput.__call__ and widget.hide_value:
        kw["value"] = ""
    kw.setdefault("id", f.id)
    kw.setdefault("type", widget.input_type)
    if "value" not in kw:
        kw["value"] = f._value()
    datalist = getattr(f, "_datalist", None)
    if datalist is not None and "list" not in kw:
        kw["list"] = datalist if isinstance(datalist, str) else datalist.id
    for k in f.flags.__dict__:  # the flags set: what dir() lists, less the class's own names
        if k in widget.validation_attrs and k not in kw:
            value = getattr(f.flags, k)
            kw[k] = value() if callable(value) else value
    kw["name"] = f.name
    return Markup("<input " + _params(kw) + ">")


def _params(kw: dict) -> str:
    """wtforms.widgets.html_params(), joined as text: sorted, True bare, False left out, each
    key and value escaped and a quote in a value given as &quot;."""
    out = []
    for key, value in sorted(kw.items()):
        key = escape(clean_key(key))
        if value is True:
            out.append(key)
        elif value is not False:
            value = escape(value)
            if '"' in value:  # only Markup keeps a quote through escape()
                value = value.replace('"', Markup("&quot;"))
            out.append(f'{key}="{value}"')
    return " ".join(out)


def _notice(message) -> Markup:
    """An expired form's or a hidden field's error, as ui.notice() draws every notice (rare: the
    macro itself is called, from the template's module)."""
    return current_app.jinja_env.get_template("components/ui.html").module.notice(message, "error")


def _joined(values) -> Markup:
    """Jinja's `|join(" ")` under autoescape: each value escaped unless it is Markup."""
    return Markup(" ").join([escape(v) for v in values])
